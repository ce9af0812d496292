// Reads of vm state for others (procfs renderers, frames' meminfo, the heap's resident counts,
// tests). They change nothing.
import { PAGE_SIZE } from './constants.js';
import { oomTaskOf, processes, processIndex } from './oom-flow.js';
import { PTE_ANON, PTE_LAZY, PTE_WRITE, PTE_ZERO, isPresent, isSwap, pteBits, ptePfn, pteIndex, swapSlot } from './page-table.js';
import { commitLimitPages } from './overcommit.js';
import type { Mm, Task, VmState } from './types.js';
import type { OomTask } from '../contracts/oom.js';
import { fileMapsOf, World } from './world.js';
import { vmaAt } from './vma-list.js';

export const taskOf = (s: VmState, pid: number): Task | undefined => s.tasks.get(pid);
export const mmOf = (s: VmState, pid: number): Mm | undefined => {
  const t = s.tasks.get(pid);
  return t && t.mmId ? s.mms.get(t.mmId) : undefined;
};

/** Tasks in the kernel's list order. */
export function tasksInOrder(s: VmState): Task[] {
  const out: Task[] = [];
  for (const p of s.order) {
    const t = s.tasks.get(p);
    if (t) out.push(t);
  }
  return out;
}

/** Committed_AS, pages (vm_committed_as). */
export const committedPages = (s: VmState): number => s.sc.committed;

/** CommitLimit, pages (vm_commit_limit()). */
export function commitLimit(s: VmState): number {
  if (!s.machine) return 0;
  return commitLimitPages(s.machine.profile, s.sc.sysctl, s.machine.totals);
}

/** The /proc/vmstat counters vm keeps. */
export function vmCounters(s: VmState): { pgfault: number; pgmajfault: number; oomKill: number; pgfaultZero: number; pgfaultCow: number } {
  return { pgfault: s.sc.pgfault, pgmajfault: s.sc.pgmajfault, oomKill: s.sc.oomKills, pgfaultZero: s.sc.pgfaultZero, pgfaultCow: s.sc.pgfaultCow };
}

/**
 * NR_FILE_MAPPED (meminfo Mapped, vmstat nr_mapped), pages: page-cache pages (file and shmem)
 * that at least one PTE maps. Anonymous pages never count, the zero page neither.
 */
export const mappedFilePages = (s: VmState): number => fileMapsOf(s).size;

export type PteView =
  | { readonly kind: 'none' }
  | { readonly kind: 'zero' }
  | { readonly kind: 'swap'; readonly slot: number }
  | { readonly kind: 'present'; readonly pfn: number; readonly anon: boolean; readonly writable: boolean; readonly lazy: boolean; readonly mapcount: number };

/** The PTE that maps addr in pid's address space. */
export function pteAt(s: VmState, pid: number, addr: number): PteView {
  const t = s.tasks.get(pid);
  const pt = t && t.mmId ? s.pts.get(t.mmId) : undefined;
  const vpn = Math.floor(addr / PAGE_SIZE);
  const idx = pteIndex(vpn);
  const v = pt?.ptes.get(idx)?.entries[vpn - idx * 512] ?? 0;
  if (v === PTE_ZERO) return { kind: 'zero' };
  if (isSwap(v)) return { kind: 'swap', slot: swapSlot(v) };
  if (isPresent(v)) {
    const pfn = ptePfn(v);
    const anon = (pteBits(v) & PTE_ANON) !== 0;
    const mapcount = anon ? (s.shared.get(pfn) ?? 1) : (fileMapsOf(s).get(pfn) ?? 1);
    return { kind: 'present', pfn, anon, writable: (v & PTE_WRITE) !== 0, lazy: (v & PTE_LAZY) !== 0, mapcount };
  }
  return { kind: 'none' };
}

/** mincore() over [addr, addr + length): how many pages are resident (present, or the zero page). */
export function residentPages(s: VmState, pid: number, addr: number, length: number): number {
  const t = s.tasks.get(pid);
  const pt = t && t.mmId ? s.pts.get(t.mmId) : undefined;
  if (!pt) return 0;
  let n = 0;
  const first = Math.floor(addr / PAGE_SIZE);
  const end = Math.ceil((addr + length) / PAGE_SIZE);
  for (let vpn = first; vpn < end; ) {
    const idx = pteIndex(vpn);
    const tbl = pt.ptes.get(idx);
    const stop = Math.min(end, (idx + 1) * 512);
    if (tbl) for (let v = vpn; v < stop; v++) {
      const e = tbl.entries[v - idx * 512];
      if (e > 0 || e === PTE_ZERO) n++;
    }
    vpn = stop;
  }
  return n;
}

/** The OOM killer's view of every process (as an OutOfMemory request would carry it). */
export function oomTasks(s: VmState): OomTask[] {
  const w = World.base(s);
  const procs = processes(w);
  const index = processIndex(w, procs);
  return procs.map((t) => oomTaskOf(w, t, index));
}

/** The id of the file (not a shmem object) at `path`, if it exists. */
export const fileIdByPath = (s: VmState, path: string): number | undefined => World.base(s).fileByPath(path)?.id;

/** Is addr mapped in pid's address space? */
export const isMapped = (s: VmState, pid: number, addr: number): boolean => {
  const mm = mmOf(s, pid);
  return !!mm && !!vmaAt(mm.vmas, addr);
};

/** What frames knows of a memcg (frames' memcgFigures()): pages charged and memory.events counters. */
export interface MemcgCharge {
  /** memory.current, pages. */
  readonly current: number;
  readonly events: Readonly<Partial<Record<'low' | 'high' | 'max' | 'oom' | 'oom_kill' | 'oom_group_kill', number>>>;
  /** memory.swap.current, pages (absent: 0). */
  readonly swapCurrent?: number;
  /** memory.swap.events max and fail (absent: 0). */
  readonly swapEvents?: Readonly<Partial<Record<'max' | 'fail', number>>>;
}

/**
 * The memory.* files of a cgroup v2 directory (mm/memcontrol.c), from vm's tree and limits and
 * frames' charges and events (null: read as 0). Limits print "max" or bytes.
 */
export function cgroupMemoryFiles(s: VmState, path: string, charge: (memcg: number) => MemcgCharge | null): Record<string, string> {
  const c = [...s.cgroups.values()].find((x) => x.path === path);
  if (!c) throw new Error(`no cgroup ${path}`);
  const lim = (b: number): string => (b < 0 ? 'max\n' : `${b}\n`);
  const f = charge(c.id);
  const ev = f?.events ?? {};
  const events = ['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill'] as const;
  const procs = tasksInOrder(s)
    .filter((t) => t.memcg === c.id && t.pid === t.tgid && t.state === 'running')
    .map((t) => `${t.pid}\n`)
    .join('');
  return {
    'cgroup.procs': procs,
    'memory.current': `${(f?.current ?? 0) * PAGE_SIZE}\n`,
    'memory.max': lim(c.max),
    'memory.high': lim(c.high),
    'memory.swap.current': `${(f?.swapCurrent ?? 0) * PAGE_SIZE}\n`,
    'memory.swap.max': lim(c.swapMax),
    // memory.swap.high is not modelled ("max"), so its event never counts.
    'memory.swap.events': `high 0\nmax ${f?.swapEvents?.max ?? 0}\nfail ${f?.swapEvents?.fail ?? 0}\n`,
    'memory.oom.group': `${c.oomGroup ? 1 : 0}\n`,
    'memory.events': events.map((k) => `${k} ${ev[k] ?? 0}\n`).join('') + 'sock_throttled 0\n',
  };
}
