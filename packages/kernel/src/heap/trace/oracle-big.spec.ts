// The two big real traces: sed (680k calls) and find (355k calls), replayed exactly.
import { describe, expect, it } from 'vitest';
import { compareTraces, type TraceComparison } from './compare.js';
import { parseTrace } from './parse.js';
import { replayTrace, type ReplayResult } from './replay.js';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const SHARED_TRACES = '/work/shared/oracles/heaptrace/traces';
const haveShared = existsSync(SHARED_TRACES);

function replayShared(name: string): { comparison: TraceComparison; result: ReplayResult; calls: number } {
  const real = parseTrace(gunzipSync(readFileSync(`${SHARED_TRACES}/${name}.ht.gz`)).toString('utf8'));
  const result = replayTrace(real);
  return { comparison: compareTraces(real, result.trace), result, calls: real.calls.length };
}


describe.skipIf(!haveShared)('big shared heaptrace oracles replay exactly', () => {
  it.each(['sed', 'find'])('%s', (name) => {
    const { comparison, result } = replayShared(name);
    expect(result.died).toBeNull();
    expect(comparison.firstMismatch).toBeNull();
    expect(comparison.ok).toBe(true);
  });
});
