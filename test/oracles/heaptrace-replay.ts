// Replaying one recorded trace through the model and comparing, for the oracle specs and the
// bench: the model's parseTrace / replayTrace / compareTraces (packages/kernel/src/heap/trace).

import { compareTraces, type TraceComparison } from '../../packages/kernel/src/heap/trace/compare.js';
import { parseTrace } from '../../packages/kernel/src/heap/trace/parse.js';
import { replayTrace, type ReplayResult } from '../../packages/kernel/src/heap/trace/replay.js';
import type { ParsedTrace } from '../../packages/kernel/src/heap/trace/types.js';
import { readTraceText } from './heaptrace-support.js';

export interface ReplayCheck {
  readonly real: ParsedTrace;
  readonly result: ReplayResult;
  readonly comparison: TraceComparison;
}

export function replayFile(path: string): ReplayCheck {
  const real = parseTrace(readTraceText(path));
  const result = replayTrace(real);
  return { real, result, comparison: compareTraces(real, result.trace) };
}

/** A one-paragraph account of what differs, for a failing expectation's message. */
export function describeMismatch(c: ReplayCheck): string {
  const { comparison: k, real, result } = c;
  const parts = [`results ${k.resultsMatched}/${k.resultsCompared}, calls ${k.simOps}/${k.realOps}`];
  if (result.died) parts.push(`the simulated process died at call ${result.died.index}: ${result.died.reason}`);
  if (k.firstMismatch) parts.push(`first mismatch at call ${k.firstMismatch.op}: real ${k.firstMismatch.real}, sim ${k.firstMismatch.sim} (${k.firstMismatch.why})`);
  if (!k.mallinfo2Equal) parts.push(`mallinfo2 real ${JSON.stringify(real.mallinfo2)} sim ${JSON.stringify(result.trace.mallinfo2)}`);
  if (!k.residentEqual) parts.push(`resident real ${JSON.stringify(real.resident)} sim ${JSON.stringify(result.trace.resident)}`);
  return parts.join('; ');
}
