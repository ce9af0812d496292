// What other services and the gRPC edge read from vma's state, as plain data (it crosses the
// bus as JSON). Reads change nothing and do not wait in the machine's queue.
import type { LogPosition } from '@mmsim/eventlog';
import { notFound, type OomTask } from '@mmsim/kernel';
import { commitLimit, committedPages, mappedFilePages, mmOf, oomTasks, taskOf, tasksInOrder, vmCounters, type Task, type VmState } from '@mmsim/kernel/vm';

export type VmaQuery =
  | { readonly type: 'Machine' }
  | { readonly type: 'Process'; readonly pid: number }
  | { readonly type: 'VmFigures' }
  | { readonly type: 'OomTasks' }
  /** Which of these processes have ended (the heap's sweep of processes it still holds). */
  | { readonly type: 'Gone'; readonly pids: readonly number[] };

export interface GoneSummary {
  readonly gone: readonly { readonly pid: number; readonly exit: string }[];
  /** vma's log position when it answered (added by the bus endpoint). */
  readonly position?: LogPosition;
}

export interface MachineSummary {
  readonly exists: boolean;
  readonly profile: string;
  readonly clockNs: number;
  readonly tasks: number;
  readonly cpus: number;
  readonly ramBytes: number;
  readonly swapBytes: number;
  readonly seed: number;
  readonly sysctl: Readonly<Record<string, number>>;
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
}

/** What the heap needs to take a process on. */
export interface ProcessSummary {
  readonly pid: number;
  readonly alive: boolean;
  readonly name: string;
  readonly brkStart: number;
  readonly env: readonly string[];
  readonly cpus: number;
  /** How it ended, when it has. */
  readonly exit: string;
  /** vma's log position when it answered (added by the bus endpoint, services/vma/src/vma-service.ts). */
  readonly position?: LogPosition;
}

export function requireMachine(s: VmState, name: string): NonNullable<VmState['machine']> {
  if (!s.machine) throw notFound('vma.NO_SUCH_MACHINE', `no machine ${name}`);
  return s.machine;
}

export function machineSummary(s: VmState): MachineSummary {
  const m = s.machine;
  if (!m) return { exists: false, profile: '', clockNs: 0, tasks: 0, cpus: 0, ramBytes: 0, swapBytes: 0, seed: 0, sysctl: {}, totalRamPages: 0, totalSwapPages: 0 };
  return {
    exists: true,
    profile: m.profile,
    clockNs: s.sc.clockNs,
    tasks: tasksInOrder(s).filter((t) => isLive(t)).length,
    cpus: m.cpus,
    ramBytes: m.ramBytes,
    swapBytes: m.swapBytes,
    seed: m.seed,
    sysctl: { ...s.sc.sysctl },
    totalRamPages: m.totals.totalRamPages,
    totalSwapPages: m.totals.totalSwapPages,
  };
}

export const isLive = (t: Task): boolean => t.state !== 'dead' && t.state !== 'zombie';

export function describeExit(t: Task): string {
  if (isLive(t)) return '';
  if (t.oomVictim) return 'killed by the OOM killer (SIGKILL)';
  if (t.exitSignal) return `killed by signal ${t.exitSignal}`;
  return `exited ${t.exitCode}`;
}

export function processSummary(s: VmState, pid: number, machine: string): ProcessSummary {
  // A machine that does not exist is said so, not reported as a missing process.
  const m = requireMachine(s, machine);
  const t = taskOf(s, pid);
  if (!t || t.isKthread) throw notFound('vma.NO_SUCH_PID', `no process ${pid}`);
  const mm = mmOf(s, pid);
  return { pid, alive: isLive(t) && !!mm, name: t.name, brkStart: mm?.startBrk ?? 0, env: [...t.env], cpus: m.cpus, exit: describeExit(t) };
}

export function vmFigures(s: VmState): { committedAsPages: number; commitLimitPages: number; mappedPages: number; pgfault: number; pgmajfault: number; oomKill: number } {
  const c = vmCounters(s);
  return { committedAsPages: committedPages(s), commitLimitPages: commitLimit(s), mappedPages: mappedFilePages(s), pgfault: c.pgfault, pgmajfault: c.pgmajfault, oomKill: c.oomKill };
}

/** `machine` names the machine in messages. */
export function runVmaQuery(s: VmState, q: VmaQuery, machine: string): unknown {
  switch (q.type) {
    case 'Machine':
      return machineSummary(s);
    case 'Process':
      return processSummary(s, q.pid, machine);
    case 'VmFigures':
      return vmFigures(s);
    case 'Gone': {
      const gone: { pid: number; exit: string }[] = [];
      for (const pid of q.pids) {
        // reaped: the task is not there at all
        if (!taskOf(s, pid)) gone.push({ pid, exit: 'ended and reaped by its parent' });
        else {
          const p = processSummary(s, pid, machine);
          if (!p.alive) gone.push({ pid, exit: p.exit });
        }
      }
      return { gone } satisfies GoneSummary;
    }
    case 'OomTasks': {
      const m = s.machine;
      const tasks: OomTask[] = m ? oomTasks(s) : [];
      return { tasks, totalPages: m ? m.totals.totalRamPages + m.totals.totalSwapPages : 0, profile: m?.profile ?? 'linux-6.18' };
    }
  }
}
