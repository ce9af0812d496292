// mmsim heap replay TRACE [--out SIM]: replays a heaptrace v1 (plain or gzipped) through the
// heap model on one simulated process whose program break starts at the trace's heap_base,
// writes the simulator's own heaptrace v1, and compares it with the real one.

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compareTraces, formatTrace, parseTrace, replayTrace, TraceParseError, type TraceReplayOptions as ReplayOptions } from '@mmsim/kernel/heap';
import type { OptionSpec, ParsedArgs, PositionalSpec } from '../../args.js';
import type { Io } from '../../io.js';

export const HEAP_REPLAY_OPTIONS: readonly OptionSpec[] = [
  { name: 'out', short: 'o', type: 'string', valueName: 'SIM', description: "where the simulator's trace goes; .gz compresses; - is stdout (default: stdout)" },
  { name: 'env', type: 'list', valueName: 'NAME=VALUE', description: 'environment of the simulated process (MALLOC_ARENA_MAX=1, GLIBC_TUNABLES=...); repeatable' },
  { name: 'cpus', type: 'number', valueName: 'N', description: 'online CPUs of the simulated machine (arena limit 8 x N)', default: 2 },
  { name: 'no-compare', type: 'boolean', description: 'do not compare with the trace\'s own results (exit 0 whenever the replay completes)' },
];
export const HEAP_REPLAY_POSITIONALS: readonly PositionalSpec[] = [
  { name: 'trace', description: 'a heaptrace v1 file, plain or .gz (- reads stdin)', required: true },
];
export const HEAP_REPLAY_SUMMARY = "replay a heaptrace through the glibc 2.36 model and compare with the real addresses";
export const HEAP_REPLAY_DESCRIPTION = [
  'Replays every call of the trace in order on one simulated process whose initial program break is the',
  "trace's heap_base, naming blocks by the call that returned them, and writes the simulator's heaptrace",
  'v1 (the same calls with its own results, then mallinfo2, final_brk and, for heap programs with write',
  'lines, resident pages). Then compares: each result at the same offset from heap_base (or both',
  'mmapped, or both NULL), mallopt and malloc_trim returns, mallinfo2, resident pages.',
  'A one-line summary goes to stderr. Exit status: 0 when everything matches, 1 when it does not or the',
  'simulated process died (glibc abort, fault), 2 for a bad command line or an unreadable trace.',
].join('\n');

function readInput(path: string): Buffer {
  return path === '-' ? readFileSync(0) : readFileSync(path);
}

function textOf(bytes: Buffer): string {
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : bytes).toString('utf8');
}

function replayOptions(args: ParsedArgs): ReplayOptions {
  const env = args.options.env;
  const cpus = args.options.cpus;
  return {
    env: Array.isArray(env) ? env : undefined,
    cpus: typeof cpus === 'number' ? cpus : undefined,
  };
}

/**
 * `mmsim heap replay TRACE [--out SIM] [--env NAME=VALUE]... [--cpus N] [--no-compare]`
 */
export async function heapReplay(args: ParsedArgs, io: Io): Promise<number> {
  const tracePath = args.positionals.trace;
  if (typeof tracePath !== 'string') {
    io.err('mmsim heap replay: missing TRACE (see `mmsim heap replay --help`)\n');
    return 2;
  }
  let real;
  try {
    real = parseTrace(textOf(readInput(tracePath)));
  } catch (e) {
    const why = e instanceof TraceParseError || e instanceof Error ? e.message : String(e);
    io.err(`mmsim heap replay: cannot read ${tracePath}: ${why}\n`);
    return 2;
  }

  const t0 = performance.now();
  const result = replayTrace(real, replayOptions(args));
  const elapsedMs = performance.now() - t0;
  const calls = real.calls.length;
  const nsPerCall = calls > 0 ? (elapsedMs * 1e6) / calls : 0;

  const simText = formatTrace(result.trace);
  const out = args.options.out;
  if (typeof out === 'string' && out !== '-') writeFileSync(out, out.endsWith('.gz') ? gzipSync(simText) : simText);
  else io.out(simText);

  const parts = [`${tracePath}: ${result.replayed}/${calls} calls replayed, ${nsPerCall.toFixed(0)} ns/call`];
  let ok = result.died === null;
  if (result.died) parts.push(`the simulated process died at call ${result.died.index}: ${result.died.reason}`);
  if (args.options['no-compare'] !== true) {
    const c = compareTraces(real, result.trace);
    parts.push(`results matched ${c.resultsMatched}/${c.resultsCompared}`);
    parts.push(`mallinfo2 ${c.mallinfo2Equal ? 'equal' : 'differs'}`);
    if (real.resident !== null) parts.push(`resident ${c.residentEqual ? 'equal' : 'differs'}`);
    if (c.firstMismatch) parts.push(`first mismatch at call ${c.firstMismatch.op}: real ${c.firstMismatch.real}, sim ${c.firstMismatch.sim} (${c.firstMismatch.why})`);
    ok = ok && c.ok;
  }
  io.err(`mmsim heap replay: ${parts.join('; ')}\n`);
  return ok ? 0 : 1;
}
