// The machine at scale: a 64 GiB machine (vm + frames + oom in one process, FullMachine) with
// 10,000 processes that each map and write 1 MiB. Time and host memory per simulated frame and
// per resident page, next to a baseline measured in the same run:
//   - boot: the machine with no user process (what 16.7M frames cost by themselves);
//   - one process writing as many pages as the 10,000 will (the same resident pages in one mm),
//     so what is left over is the cost of having many processes.
// Then the spawns in slices of 1,000 (a growing cost per slice would be something quadratic),
// and the machine-wide operations whose cost grows with the task list, at 10,000 processes:
// stateHash of vm and frames, an OOM request's candidate table, /proc/meminfo and the oom Tick
// of AdvanceTime.
//
//   NODE_OPTIONS=--expose-gc npx tsx bench/kernel-scale.ts [processes]     (default 10000)
import { DEFAULT_SYSCTLS, type MachineConfig } from '../packages/kernel/src/machine/config.js';
import { FullMachine } from '../packages/kernel/src/vm/full-machine.js';
import { oomTasks } from '../packages/kernel/src/vm/queries.js';
import { stateHash as vmStateHash } from '../packages/kernel/src/vm/aggregate.js';
import { framesFigures, stateHash as framesStateHash, totalRamPages } from '../packages/kernel/src/frames/index.js';
import { meminfoInput, renderMeminfo } from '../packages/kernel/src/procfs/index.js';
import type { VmState } from '../packages/kernel/src/vm/types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const N = Number(process.argv[2] ?? 10_000);
const PER_PROCESS = MiB;
const SLICE = Math.max(1, Math.floor(N / 10));

const config = (): MachineConfig => ({
  tenant: 'bench', machine: 'scale', profile: 'linux-6.18', ramBytes: 64 * GiB, swapBytes: 0, cpus: 16, seed: 1, sysctl: { ...DEFAULT_SYSCTLS },
});
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const mem = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + (m.external - m.arrayBuffers);
};
const now = (): number => performance.now();

function residentUserPages(s: VmState): number {
  let n = 0;
  for (const mm of s.mms.values()) n += mm.rssAnon + mm.rssFile + mm.rssShmem;
  return n;
}

/** spawn + mmap(PER_PROCESS) + a write of all of it. */
function spawnToucher(fm: FullMachine, i: number): number {
  const pid = fm.handle({ type: 'Spawn', name: `w${i % 1000}` }).answer as number;
  if (typeof pid !== 'number' || pid < 0) throw new Error(`spawn ${i} failed: ${String(pid)}`);
  const addr = fm.handle({ type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: PER_PROCESS, prot: 3, flags: 0x22, fd: -1, offset: 0 } }).answer as number;
  const r = fm.handle({ type: 'Touch', pid, writes: [{ addr, length: PER_PROCESS }], reads: [] }).answer as { ok: boolean };
  if (!r.ok) throw new Error(`touch ${i} failed: ${JSON.stringify(r)}`);
  return pid;
}

/** The result, wall ms and CPU ms (user + system) of f: the machine is shared, CPU time is the steadier figure. */
function timed<T>(f: () => T): [T, number, number] {
  const c0 = process.cpuUsage();
  const t0 = now();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, now() - t0, (c.user + c.system) / 1000];
}

function main(): void {
  console.log(`node ${process.version}, ${process.arch}; ${fmt(N)} processes x ${PER_PROCESS / MiB} MiB on 64 GiB; gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'exposed' : 'NOT exposed (memory figures are rough)'}`);

  // Baseline 1: boot, no user process.
  const m0 = mem();
  const [base, bootMs, bootCpu] = timed(() => new FullMachine(config()));
  const m1 = mem();
  const frames = totalRamPages(base.frames);
  console.log('\n## Boot (baseline: no user process)');
  console.log(`| frames (MemTotal pages) | boot time (wall / CPU) | host bytes | per frame |`);
  console.log(`|---:|---:|---:|---:|`);
  console.log(`| ${fmt(frames)} | ${fmt(bootMs)} / ${fmt(bootCpu)} ms | ${fmt(m1 - m0)} | ${fmt((m1 - m0) / frames, 2)} B |`);

  // Baseline 2: one process writing the pages the N processes will write, in PER_PROCESS steps.
  const one = base;
  const pid = one.handle({ type: 'Spawn', name: 'one' }).answer as number;
  const r0 = residentUserPages(one.state);
  const mOne0 = mem();
  const [, oneMs, oneCpu] = timed(() => {
    for (let i = 0; i < N; i++) {
      const addr = one.handle({ type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: PER_PROCESS, prot: 3, flags: 0x22, fd: -1, offset: 0 } }).answer as number;
      const r = one.handle({ type: 'Touch', pid, writes: [{ addr, length: PER_PROCESS }], reads: [] }).answer as { ok: boolean };
      if (!r.ok) throw new Error('baseline touch failed');
    }
  });
  const mOne1 = mem();
  const onePages = residentUserPages(one.state) - r0;

  // The N processes, on a fresh machine.
  const fm = new FullMachine(config());
  const rBefore = residentUserPages(fm.state);
  const mMany0 = mem();
  const slices: number[] = [];
  const sliceCpu: number[] = [];
  const pids: number[] = [];
  const [, manyMs, manyCpu] = timed(() => {
    for (let s = 0; s < N; s += SLICE) {
      const t0 = now();
      const c0 = process.cpuUsage();
      for (let i = s; i < Math.min(N, s + SLICE); i++) pids.push(spawnToucher(fm, i));
      slices.push(now() - t0);
      const c = process.cpuUsage(c0);
      sliceCpu.push((c.user + c.system) / 1000);
    }
  });
  const mMany1 = mem();
  const manyPages = residentUserPages(fm.state) - rBefore;
  const f = framesFigures(fm.frames);

  console.log(`\n## ${fmt(N)} processes, each spawned (exec prefault) then writing ${PER_PROCESS / MiB} MiB, against one process writing the same`);
  console.log('| case | resident user pages | wall | CPU | CPU per process | CPU per resident page | host bytes | per resident page |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  console.log(`| baseline: 1 process, ${fmt(N)} x mmap+write 1 MiB | ${fmt(onePages)} | ${fmt(oneMs)} ms | ${fmt(oneCpu)} ms | - | ${fmt((oneCpu * 1e6) / onePages)} ns | ${fmt(mOne1 - mOne0)} | ${fmt((mOne1 - mOne0) / onePages, 1)} B |`);
  console.log(`| ${fmt(N)} processes: spawn + mmap + write 1 MiB | ${fmt(manyPages)} | ${fmt(manyMs)} ms | ${fmt(manyCpu)} ms | ${fmt((manyCpu * 1000) / N)} us | ${fmt((manyCpu * 1e6) / manyPages)} ns | ${fmt(mMany1 - mMany0)} | ${fmt((mMany1 - mMany0) / manyPages, 1)} B |`);
  console.log(`host bytes per process: ${fmt((mMany1 - mMany0) / N)}; machine: MemFree ${fmt(f.free * 4 / 1024)} MiB, AnonPages ${fmt(f.anonPages * 4 / 1024)} MiB, page tables ${fmt(f.kernel.pagetable)} pages`);
  console.log(`\nwall per slice of ${fmt(SLICE)} processes (ms): ${slices.map((x) => fmt(x)).join(', ')}`);
  console.log(`CPU per slice (ms): ${sliceCpu.map((x) => fmt(x)).join(', ')}`);
  console.log(`CPU of the last slice / the first: ${(sliceCpu[sliceCpu.length - 1] / sliceCpu[0]).toFixed(2)}`);

  console.log(`\n## Machine-wide operations at ${fmt(N)} processes`);
  console.log('| operation | wall | CPU |');
  console.log('|---|---:|---:|');
  const op = (name: string, f0: () => unknown, reps = 5): void => {
    f0();
    const [, w, c] = timed(() => {
      for (let k = 0; k < reps; k++) f0();
    });
    console.log(`| ${name} | ${fmt(w / reps, 2)} ms | ${fmt(c / reps, 2)} ms |`);
  };
  op('vm stateHash', () => vmStateHash(fm.state));
  op('frames stateHash', () => framesStateHash(fm.frames));
  op('OOM candidate table (every process with its badness inputs)', () => oomTasks(fm.state));
  op('/proc/meminfo', () => renderMeminfo(meminfoInput(fm.frames, { committedAsPages: fm.state.sc.committed }), 'linux-6.18'));
  op('AdvanceTime 1 s (kswapd + oom Tick over every task)', () => fm.handle({ type: 'AdvanceTime', ns: 1e9 }), 3);
  op('spawn + mmap + write 1 MiB, one more process', () => spawnToucher(fm, N + 1), 20);
  op('exit of one process', () => fm.handle({ type: 'Exit', pid: pids.pop() as number }), 20);
}

main();
