// CPU time per call of the heap model's in-process replay, for comparing one build of the
// model with another on a loaded machine.
//
//   npx tsx bench/heap-cpu.ts [--runs N] [--check] TRACE_NAME...
//   (names as in bench/heap-replay.ts: shared/sed, fixtures/cc1, ...; default shared/sed,
//   shared/find, shared/ls, shared/grep, fixtures/cc1, fixtures/tar)
//
// Each trace is parsed once and replayed twice untimed (JIT warm-up), then N times (default 15);
// each run's CPU time (process.cpuUsage, user + system) is taken, and the best and the median
// are printed in ns per heap call. CPU time, not wall time: on the shared 2-core machine wall
// time mostly measures the neighbours, and the best of N is what the code costs when it gets
// the core. --check compares the first replay with the recording (the model's comparator).
// Run on demand; never part of the tests.

import { compareTraces } from '../packages/kernel/src/heap/trace/compare.js';
import { parseTrace } from '../packages/kernel/src/heap/trace/parse.js';
import { prepareReplay, replayTrace } from '../packages/kernel/src/heap/trace/replay.js';
import { Op } from '../packages/kernel/src/heap/trace/types.js';
import { FIXTURES_DIR, listTraces, readTraceText, SHARED_TRACES_DIR } from '../test/oracles/heaptrace-support.js';

const DEFAULT = ['shared/sed', 'shared/find', 'shared/ls', 'shared/grep', 'fixtures/cc1', 'fixtures/tar'];

function main(): void {
  const argv = process.argv.slice(2);
  let runs = 15;
  let check = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--check') check = true;
    else names.push(argv[i]);
  }
  const all = new Map<string, string>();
  for (const f of listTraces(FIXTURES_DIR)) all.set(`fixtures/${f.name}`, f.path);
  for (const f of listTraces(SHARED_TRACES_DIR)) all.set(`shared/${f.name}`, f.path);
  process.stdout.write('| trace | calls | best ns/call | median ns/call |' + (check ? ' exact |' : '') + '\n');
  for (const name of names.length > 0 ? names : DEFAULT) {
    const path = all.get(name);
    if (path === undefined) {
      process.stderr.write(`no trace ${name}\n`);
      continue;
    }
    const real = parseTrace(readTraceText(path));
    const prep = prepareReplay(real);
    let calls = 0;
    for (let i = 0; i < real.calls.length; i++) if (real.calls.op[i] !== Op.Write) calls++;
    const first = replayTrace(prep);
    const exact = first.died === null && compareTraces(real, first.trace).ok;
    replayTrace(prep);
    const t: number[] = [];
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      replayTrace(prep);
      const c = process.cpuUsage(c0);
      t.push((c.user + c.system) * 1000);
    }
    t.sort((a, b) => a - b);
    const ns = (x: number): string => (x / calls).toFixed(1);
    process.stdout.write(`| ${name} | ${calls} | ${ns(t[0])} | ${ns(t[t.length >> 1])} |` + (check ? ` ${exact ? 'yes' : 'NO'} |` : '') + '\n');
  }
}

main();
