// Every real trace of ../shared/oracles/heaptrace (ls, grep, cc1, ..., the frag experiment,
// random heap programs with residency) replayed through the model: every result at the same
// offset from heap_base (or both mmapped, or both NULL), mallinfo2 equal, resident pages equal.
// sed and find (1M calls between them) are in oracle-big.spec.ts.
import { describe, expect, it } from 'vitest';
import { compareTraces, type TraceComparison } from './compare.js';
import { parseTrace } from './parse.js';
import { replayTrace, type ReplayResult } from './replay.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const SHARED_TRACES = '/work/shared/oracles/heaptrace/traces';
const haveShared = existsSync(SHARED_TRACES);

const sharedTraceNames = (): string[] =>
  haveShared ? readdirSync(SHARED_TRACES).filter((f) => f.endsWith('.ht.gz')).map((f) => f.slice(0, -'.ht.gz'.length)).sort() : [];

function replayShared(name: string): { comparison: TraceComparison; result: ReplayResult; calls: number } {
  const real = parseTrace(gunzipSync(readFileSync(`${SHARED_TRACES}/${name}.ht.gz`)).toString('utf8'));
  const result = replayTrace(real);
  return { comparison: compareTraces(real, result.trace), result, calls: real.calls.length };
}


const BIG = new Set(['sed', 'find']);

describe.skipIf(!haveShared)('shared heaptrace oracles replay exactly', () => {
  const names = sharedTraceNames().filter((n) => !BIG.has(n));
  it('has the traces', () => expect(names.length).toBeGreaterThanOrEqual(25));
  it.each(names)('%s', (name) => {
    const { comparison, result } = replayShared(name);
    expect(result.died).toBeNull();
    expect(comparison.firstMismatch).toBeNull();
    expect(comparison).toMatchObject({ ok: true, mallinfo2Equal: true, residentEqual: true });
    expect(comparison.resultsMatched).toBe(comparison.resultsCompared);
  });
});
