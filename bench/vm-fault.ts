// vm: first-touch anonymous page faults per second, in-process through vm + frames, and host
// bytes per resident page of page table.
//
//   npx tsx bench/vm-fault.ts            (NODE_OPTIONS=--expose-gc for steadier memory figures)
//
// Throughput: one process on an 8 GiB machine maps 256 MiB (65,536 pages) and writes all of it
// with one Touch: vm classifies the pages, asks frames for the page-table pages and then for the
// 65,536 pages (one AllocUserPages each), maps them (PagesFaulted, applied to decide's draft and
// again by evolve) and frames allocates them (decide + evolve + answer). The mapping is then
// unmapped (not timed) so the next round starts again from free memory. The same loop runs
// against a stub frames that hands out consecutive pfns, to show vm's own share. Each figure is
// the best of several rounds, in wall time and per CPU-second of the process (the machine is
// shared). Baseline in the same run: writing a Uint32Array of as many entries as pages.
// Memory: the page tables of a process with 1 GiB resident: their typed arrays' bytes per page,
// and the growth of process.memoryUsage() (arrayBuffers, heap) across the faults, per page.
import type { Aggregate } from '../packages/kernel/src/common/index.js';
import { InProcessMachine } from '../packages/kernel/src/machine/in-process.js';
import { DEFAULT_SYSCTLS, type MachineConfig } from '../packages/kernel/src/machine/config.js';
import { createVm } from '../packages/kernel/src/vm/aggregate.js';
import { FullMachine } from '../packages/kernel/src/vm/full-machine.js';
import type { VmCommand, VmState } from '../packages/kernel/src/vm/types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const config = (ramBytes: number): MachineConfig => ({
  tenant: 'bench', machine: 'vm', profile: 'linux-6.18', ramBytes, swapBytes: 0, cpus: 2, seed: 1, sysctl: { ...DEFAULT_SYSCTLS, overcommit_memory: 1 },
});
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Host {
  handle(c: VmCommand): { answer: unknown };
  readonly state: VmState;
}

/** frames replaced by a stub: pfns handed out in order, nothing recorded. */
function stubMachine(): Host {
  let next = 0;
  const grant = (n: number) => {
    const pfns: number[] = new Array(n);
    for (let k = 0; k < n; k++) pfns[k] = next++;
    return { pfns, evicted: [], failed: null, majorFaults: 0 };
  };
  const frames: Aggregate<{ type: string; [k: string]: unknown }, never, object> = {
    service: 'frames',
    initialState: () => ({}),
    decide: () => [],
    evolve: (s) => s,
    stateHash: () => '0000000000000000',
    answer: (c) => {
      if (c.type === 'AllocUserPages') return grant((c.runs as { count: number }[]).reduce((a, r) => a + r.count, 0));
      if (c.type === 'AddKernelPages') return grant(c.pages as number);
      if (c.type === 'GetFilePage' || c.type === 'SwapIn') return grant(1);
      if (c.type === 'GetFilePages') return grant(c.count as number);
      if (c.type === 'SwapInPages') return grant((c.entries as { count: number }[]).reduce((a, r) => a + r.count, 0));
      return grant(0);
    },
  };
  const oom: Aggregate<unknown, never, object> = { service: 'oom', initialState: () => ({}), decide: () => [], evolve: (s) => s, stateHash: () => '0', answer: () => ({ kind: 'none', reason: 'stub' }) };
  const vm = createVm();
  const m = new InProcessMachine({ vma: vm as never, frames: frames as never, oom: oom as never });
  const totals = { totalRamPages: 2 ** 24, totalSwapPages: 0, freePages: 2 ** 24, freeSwapPages: 0, filePages: 0, shmemPages: 0, sReclaimablePages: 0, totalReservePages: 0, hugetlbPages: 0 };
  m.handle('vma', { type: 'CreateMachine', config: config(64 * GiB), totals });
  return { handle: (c) => m.handle('vma', c), get state() { return m.state<VmState>('vma'); } };
}

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/** Best of `rounds` rounds: map `bytes`, touch it all (timed), unmap it (not timed). */
function faultRate(h: Host, pid: number, bytes: number, rounds: number): Rate {
  let best: Rate = { wall: 0, cpu: 0 };
  const pages = bytes / 4096;
  for (let r = 0; r < rounds; r++) {
    const addr = h.handle({ type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: bytes, prot: 3, flags: 0x22 } }).answer as number;
    gc();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = h.handle({ type: 'Touch', pid, writes: [{ addr, length: bytes }], reads: [] }).answer as { ok: boolean };
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (!res.ok) throw new Error(`touch failed: ${JSON.stringify(res)}`);
    h.handle({ type: 'Syscall', pid, call: { nr: 'munmap', addr, length: bytes } });
    best = { wall: Math.max(best.wall, pages / wall), cpu: Math.max(best.cpu, pages / ((c.user + c.system) / 1e6)) };
  }
  return best;
}

function baseline(entries: number, rounds: number): Rate {
  let best: Rate = { wall: 0, cpu: 0 };
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const a = new Uint32Array(entries);
    for (let i = 0; i < entries; i++) a[i] = (i + 1) * 8 + 3;
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (a[entries - 1] === 0) throw new Error('unreachable');
    best = { wall: Math.max(best.wall, entries / wall), cpu: Math.max(best.cpu, entries / Math.max(1e-6, (c.user + c.system) / 1e6)) };
  }
  return best;
}

function pageTableBytes(s: VmState, mmId: number): { bytes: number; resident: number } {
  const pt = s.pts.get(mmId);
  const mm = s.mms.get(mmId);
  let bytes = 0;
  if (pt) for (const t of pt.ptes.values()) bytes += t.entries.byteLength;
  return { bytes, resident: mm ? mm.rssAnon + mm.rssFile + mm.rssShmem : 0 };
}

function main(): void {
  const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 6;
  console.log(`node ${process.version}, ${process.arch}`);
  console.log('\n## First-touch anonymous faults, 256 MiB (65,536 pages) per Touch');
  const full = new FullMachine(config(8 * GiB));
  const fpid = full.handle({ type: 'Spawn', name: 'toucher' }).answer as number;
  const stub = stubMachine();
  const spid = stub.handle({ type: 'Spawn', name: 'toucher' }).answer as number;
  const rf = faultRate(full, fpid, 256 * MiB, rounds);
  const rs = faultRate(stub, spid, 256 * MiB, rounds);
  const rb = baseline(65536, rounds * 20);
  console.log('| case | pages/s (wall) | per CPU-second |');
  console.log('|---|---:|---:|');
  console.log(`| vm + frames | ${fmt(rf.wall)} | ${fmt(rf.cpu)} |`);
  console.log(`| vm + stub frames | ${fmt(rs.wall)} | ${fmt(rs.cpu)} |`);
  console.log(`| baseline: Uint32Array of 65,536 written | ${fmt(rb.wall)} | ${fmt(rb.cpu)} |`);

  console.log('\n## Host memory of page tables, 1 GiB resident');
  gc();
  const m0 = process.memoryUsage();
  const addr = stub.handle({ type: 'Syscall', pid: spid, call: { nr: 'mmap', addr: 0, length: GiB, prot: 3, flags: 0x22 } }).answer as number;
  stub.handle({ type: 'Touch', pid: spid, writes: [{ addr, length: GiB }], reads: [] });
  gc();
  const m1 = process.memoryUsage();
  const task = stub.state.tasks.get(spid)!;
  const pt = pageTableBytes(stub.state, task.mmId);
  const pages = GiB / 4096;
  console.log(`page-table typed arrays: ${fmt(pt.bytes)} bytes for ${fmt(pt.resident)} resident pages = ${(pt.bytes / pt.resident).toFixed(2)} B/page`);
  console.log(`process.memoryUsage growth per faulted page: arrayBuffers ${((m1.arrayBuffers - m0.arrayBuffers) / pages).toFixed(2)} B, heapUsed ${((m1.heapUsed - m0.heapUsed) / pages).toFixed(2)} B`);
}

main();
