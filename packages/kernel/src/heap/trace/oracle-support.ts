// Shared by the oracle specs: where the real traces are, and replaying one through the model.
// Kernel model code is pure; this file and the specs read files, so only the specs import it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { compareTraces, type TraceComparison } from './compare.js';
import { parseTrace } from './parse.js';
import { replayTrace, type ReplayResult } from './replay.js';

export const SHARED_TRACES = '/work/shared/oracles/heaptrace/traces';
export const haveShared = existsSync(SHARED_TRACES);

export const sharedTraceNames = (): string[] =>
  haveShared ? readdirSync(SHARED_TRACES).filter((f) => f.endsWith('.ht.gz')).map((f) => f.slice(0, -'.ht.gz'.length)).sort() : [];

export function replayShared(name: string): { comparison: TraceComparison; result: ReplayResult; calls: number } {
  const real = parseTrace(gunzipSync(readFileSync(`${SHARED_TRACES}/${name}.ht.gz`)).toString('utf8'));
  const result = replayTrace(real);
  return { comparison: compareTraces(real, result.trace), result, calls: real.calls.length };
}
