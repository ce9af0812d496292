// Records test/fixtures/oom/*.json: /proc snapshots of this machine (Linux 6.18, as root) while
// hold-memory processes hold chosen amounts of anonymous, file-backed and shared memory with
// chosen oom_score_adj values, ties included. Each snapshot is checked before it is written:
// the kernel's oom_score of every process must equal the model's (scoreSnapshot), or the
// capture is taken again (up to 5 times).
//
//   npx tsx tools/oom/record-fixtures.ts [--out DIR] [--check]
//     --check   record to a temporary directory and only report (changes nothing)
//
// Needs: Linux 5.9+, root (negative oom_score_adj), cc, /dev/shm, ~2 GiB free memory.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSnapshot, scoreSnapshot } from '../../packages/kernel/src/oom/index.js';
import { captureProc } from './capture.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/** One test process: kB of each kind of memory and its oom_score_adj. */
interface Holder {
  readonly anonKb: number;
  readonly fileKb: number;
  readonly shmemKb: number;
  readonly adj: number;
}

const MB = 1024;
const h = (anonMb: number, fileMb: number, shmemMb: number, adj: number): Holder => ({ anonKb: anonMb * MB, fileKb: fileMb * MB, shmemKb: shmemMb * MB, adj });

/**
 * The scenarios; test/fixtures/oom/README.md describes them too. Lowering oom_score_adj below
 * 0 needs CAP_SYS_RESOURCE, which the machine the fixtures were recorded on does not grant
 * (CapEff 000001fffeffffff: bit 24 clear); 'negative-adj' is recorded only where it is held.
 */
export const SCENARIOS: Readonly<Record<string, readonly Holder[]>> = {
  // Every kind of memory, adj across the positive range, and two identical processes (a tie).
  'adj-mix': [
    h(200, 0, 0, 0),
    h(100, 0, 0, 300),
    h(0, 150, 0, 500),
    h(0, 0, 120, 1000),
    h(50, 50, 50, 0),
    h(300, 0, 0, 1),
    h(80, 0, 0, 0),
    h(80, 0, 0, 0),
    h(10, 0, 0, 250),
    h(0, 0, 0, 999),
    h(40, 0, 0, 999),
    h(0, 64, 32, 500),
  ],
  // Sizes around the oom_score steps (totalpages / 1000 pages each), and groups of equal processes.
  'ties-and-sizes': [
    h(1024, 0, 0, 0),
    h(64, 0, 0, 0),
    h(64, 0, 0, 0),
    h(64, 0, 0, 0),
    h(64, 0, 0, 0),
    h(0, 32, 0, 100),
    h(0, 32, 0, 100),
    h(0, 32, 0, 100),
    h(0, 0, 256, 0),
    h(1, 0, 0, 1),
    h(1, 0, 0, 2),
    h(24, 24, 24, 100),
    h(512, 0, 0, 600),
  ],
  // Needs CAP_SYS_RESOURCE.
  'negative-adj': [h(300, 0, 0, -1000), h(200, 0, 0, -500), h(100, 0, 0, -999), h(50, 50, 50, -1), h(80, 0, 0, 0), h(80, 0, 0, 300)],
};

/** CAP_SYS_RESOURCE (24) in our effective set: may we lower oom_score_adj below 0? */
function haveCapSysResource(): boolean {
  const cap = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return Math.floor(parseInt(cap.slice(-8), 16) / 2 ** 24) % 2 === 1;
}

function buildHolder(dir: string): string {
  const bin = join(dir, 'hold-memory');
  execFileSync('cc', ['-O2', '-Wall', '-o', bin, join(here, 'hold-memory.c')], { stdio: 'inherit' });
  return bin;
}

async function startHolders(bin: string, holders: readonly Holder[], fileDir: string): Promise<ChildProcessWithoutNullStreams[]> {
  const procs: ChildProcessWithoutNullStreams[] = [];
  for (const x of holders) {
    // One at a time, in order, so pids (the task-list order) follow the scenario's order.
    const p = spawn(bin, [String(x.anonKb), String(x.fileKb), String(x.shmemKb), String(x.adj), fileDir]);
    procs.push(p);
    await new Promise<void>((ok, fail) => {
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) ok();
      });
      p.on('exit', (code) => fail(new Error(`hold-memory exited with ${code}: ${out}`)));
      p.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    });
  }
  return procs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function recordScenario(bin: string, name: string, fileDir: string): Promise<{ json: string; processes: number; matched: number }> {
  const procs = await startHolders(bin, SCENARIOS[name], fileDir);
  try {
    await sleep(300);
    for (let attempt = 1; ; attempt++) {
      const snap = captureProc();
      const scores = scoreSnapshot(parseSnapshot(snap));
      const matched = scores.filter((s) => s.match).length;
      if (matched === scores.length || attempt === 5) {
        for (const s of scores.filter((x) => !x.match)) console.error(`  ${name}: pid ${s.pid} (${s.name}) kernel ${s.kernelOomScore}, model ${s.oomScore}`);
        return { json: JSON.stringify(snap, null, 1) + '\n', processes: scores.length, matched };
      }
      await sleep(200);
    }
  } finally {
    for (const p of procs) p.stdin.end();
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const outIdx = args.indexOf('--out');
  const work = mkdtempSync(join(tmpdir(), 'mmsim-oom-'));
  const out = check ? work : outIdx >= 0 ? resolve(args[outIdx + 1]) : join(repo, 'test/fixtures/oom');
  mkdirSync(out, { recursive: true });
  try {
    const bin = buildHolder(work);
    let failed = false;
    for (const name of Object.keys(SCENARIOS)) {
      if (SCENARIOS[name].some((x) => x.adj < 0) && !haveCapSysResource()) {
        console.log(`${name}: skipped (negative oom_score_adj needs CAP_SYS_RESOURCE, which this process lacks)`);
        continue;
      }
      const r = await recordScenario(bin, name, work);
      const file = join(out, `${name}.json`);
      writeFileSync(file, r.json);
      console.log(`${file}: ${r.matched} of ${r.processes} processes: model oom_score == kernel oom_score`);
      if (r.matched !== r.processes) failed = true;
    }
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
