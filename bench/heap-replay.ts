// Heap model speed against the real glibc, on recorded traces.
//
//   npx tsx bench/heap-replay.ts [--filter SUBSTRING] [--seconds S] [--no-native]
//
// For each trace in test/fixtures/heaptrace (and /work/shared/oracles/heaptrace/traces when
// present): replays it in-process through the model's replayTrace() (one warm-up run, then
// runs for S seconds, at least 3; the median), and through this machine's glibc with
// tools/heaptrace/native-replay.c (built with the system C compiler; each native run starts
// from an empty heap in a forked child; the median). Prints trace | calls | sim ns/call | native ns/call | ratio | exact, where calls are
// heap calls (write lines of heap programs are replayed by the model, since they make pages
// resident, but not counted; native-replay skips them). Run on demand; never part of the tests.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCTool, NATIVE_REPLAY, NoCompilerError } from '../packages/cli/src/commands/heap/c-toolchain.js';
import { compareTraces } from '../packages/kernel/src/heap/trace/compare.js';
import { parseTrace } from '../packages/kernel/src/heap/trace/parse.js';
import { prepareReplay, replayTrace } from '../packages/kernel/src/heap/trace/replay.js';
import { Op } from '../packages/kernel/src/heap/trace/types.js';
import { FIXTURES_DIR, listTraces, readTraceText, SHARED_TRACES_DIR, type TraceFile } from '../test/oracles/heaptrace-support.js';

interface Options {
  filter: string;
  seconds: number;
  native: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { filter: '', seconds: 1, native: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--filter') o.filter = argv[++i] ?? '';
    else if (argv[i] === '--seconds') o.seconds = Number(argv[++i]);
    else if (argv[i] === '--no-native') o.native = false;
    else {
      process.stderr.write('usage: npx tsx bench/heap-replay.ts [--filter SUBSTRING] [--seconds S] [--no-native]\n');
      process.exit(2);
    }
  }
  return o;
}

interface Row {
  name: string;
  calls: number;
  simNs: number;
  nativeNs: number | undefined;
  exact: boolean;
}

/** One untimed run (JIT warm-up, and the exactness check), then timed runs for `seconds`: the median. */
function simNsPerCall(text: string, seconds: number): { ns: number; calls: number; exact: boolean } {
  const real = parseTrace(text);
  const prepared = prepareReplay(real);
  let calls = 0;
  for (let i = 0; i < real.calls.length; i++) if (real.calls.op[i] !== Op.Write) calls++;
  const first = replayTrace(prepared);
  const exact = first.died === null && compareTraces(real, first.trace).ok;
  const times: number[] = [];
  let elapsed = 0;
  while (times.length < 3 || elapsed < seconds * 1000) {
    const t0 = performance.now();
    replayTrace(prepared);
    const ms = performance.now() - t0;
    times.push(ms);
    elapsed += ms;
  }
  times.sort((a, b) => a - b);
  return { ns: (times[times.length >> 1] * 1e6) / calls, calls, exact };
}

function nativeNsPerCall(tool: string, text: string, seconds: number, scratch: string): number | undefined {
  const path = join(scratch, 'trace.ht');
  writeFileSync(path, text);
  const r = spawnSync(tool, [path, String(seconds)], { encoding: 'utf8' });
  const m = /ns_per_call_median=([\d.]+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

const fmt = (x: number | undefined, digits = 0): string => (x === undefined ? '-' : x.toFixed(digits));

function main(): void {
  const o = parseOptions(process.argv.slice(2));
  let tool: string | undefined;
  let nativeNote = '';
  if (o.native) {
    try {
      tool = buildCTool(NATIVE_REPLAY);
    } catch (e) {
      if (!(e instanceof NoCompilerError)) throw e;
      nativeNote = 'native: no C compiler found, so no native replay (install gcc, or set CC) -- the native column is empty';
    }
  } else {
    nativeNote = 'native: skipped (--no-native)';
  }
  const traces: { set: string; file: TraceFile }[] = [
    ...listTraces(FIXTURES_DIR).map((file) => ({ set: 'fixtures', file })),
    ...listTraces(SHARED_TRACES_DIR).map((file) => ({ set: 'shared', file })),
  ].filter((t) => `${t.set}/${t.file.name}`.includes(o.filter));
  if (listTraces(SHARED_TRACES_DIR).length === 0) process.stderr.write(`(no shared traces at ${SHARED_TRACES_DIR}: fixtures only)\n`);
  if (nativeNote) process.stderr.write(nativeNote + '\n');

  const scratch = mkdtempSync(join(tmpdir(), 'mmsim-bench-heap-'));
  const rows: Row[] = [];
  const header = ['trace', 'calls', 'sim ns/call', 'native ns/call', 'ratio', 'exact'];
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  try {
    for (const t of traces) {
      const text = readTraceText(t.file.path);
      const sim = simNsPerCall(text, o.seconds);
      const native = tool ? nativeNsPerCall(tool, text, o.seconds, scratch) : undefined;
      const row: Row = { name: `${t.set}/${t.file.name}`, calls: sim.calls, simNs: sim.ns, nativeNs: native, exact: sim.exact };
      rows.push(row);
      const ratio = native ? sim.ns / native : undefined;
      process.stdout.write(`| ${row.name} | ${row.calls} | ${fmt(sim.ns)} | ${fmt(native, 1)} | ${fmt(ratio, 1)} | ${sim.exact ? 'yes' : 'no'} |\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // Call-weighted totals: the time to replay everything, per call.
  const calls = rows.reduce((n, r) => n + r.calls, 0);
  const simTotal = rows.reduce((n, r) => n + r.simNs * r.calls, 0);
  const withNative = rows.filter((r) => r.nativeNs !== undefined);
  const nativeCalls = withNative.reduce((n, r) => n + r.calls, 0);
  const nativeTotal = withNative.reduce((n, r) => n + (r.nativeNs ?? 0) * r.calls, 0);
  const simAvg = calls ? simTotal / calls : 0;
  const nativeAvg = nativeCalls ? nativeTotal / nativeCalls : undefined;
  process.stdout.write(
    `| all (call-weighted) | ${calls} | ${fmt(simAvg)} | ${fmt(nativeAvg, 1)} | ${fmt(nativeAvg ? simAvg / nativeAvg : undefined, 1)} | ${rows.filter((r) => r.exact).length}/${rows.length} |\n`,
  );
}

main();
