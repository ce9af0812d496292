// scoreSnapshot(): our /proc/<pid>/oom_score for every process of a real machine's snapshot,
// beside what that machine's kernel printed. On a 5.9+ kernel (the snapshots here are 6.18)
// they must be equal for every process:
//   totalpages = MemTotal pages + SwapTotal pages
//   points     = (RssAnon + RssFile + RssShmem + VmSwap) pages + VmPTE / 4  (+ adj * totalpages / 1000)
import { BADNESS } from '../badness/index.js';
import type { Points } from '../types.js';
import type { ProcSnapshot } from './parse.js';
import { profileOfRelease, snapshotToOomTasks } from './mirror.js';

export interface SnapshotScore {
  readonly pid: number;
  readonly name: string;
  readonly points: Points;
  /** Ours. */
  readonly oomScore: number;
  /** The kernel's, from the snapshot. */
  readonly kernelOomScore: number;
  readonly match: boolean;
}

export function scoreSnapshot(s: ProcSnapshot): SnapshotScore[] {
  const { tasks, totalPages, nowNs } = snapshotToOomTasks(s);
  const rules = BADNESS[profileOfRelease(s.kernel)];
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  const kernel = new Map(s.processes.map((p) => [p.pid, p.oom_score]));
  return tasks.map((t) => {
    const r = rules.score(t, { totalPages, byPid, nowNs });
    const kernelOomScore = kernel.get(t.pid) as number;
    return { pid: t.pid, name: t.name, points: r.points, oomScore: r.oomScore, kernelOomScore, match: r.oomScore === kernelOomScore };
  });
}
