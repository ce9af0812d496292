// The OOM killer's choice, computed the way the reference notes state it
// (/work/shared/reference/linux-oom-overcommit-meminfo.md, "Modern oom_badness(), Linux 5.9
// and later"; mm/oom_kill.c oom_badness() and oom_evaluate_task()) from the figures a user sees
// in `ps` / ListTasks, independently of the model's own badness():
//
//   points = rss + swap entries + page-table bytes / PAGE_SIZE
//   points += oom_score_adj * (totalpages / 1000)        (integer division first)
//   totalpages = RAM pages + swap pages                   (MemTotal + SwapTotal, in pages)
//
// Not candidates: init (pid 1), kernel threads, oom_score_adj -1000. The highest points win; on
// a tie the later task in the task list wins (`points < chosen_points` skips, `==` replaces).
import type { TaskInfo } from '@mmsim/proto';

export const PAGE_SIZE_KB = 4;

export interface Badness {
  readonly pid: number;
  readonly name: string;
  readonly points: number;
}

/** C's truncating division for the signed products (adj may be negative). */
const cdiv = (a: number, b: number): number => Math.trunc(a / b);

export function referenceBadness(t: TaskInfo, totalPages: number): Badness | undefined {
  if (t.pid === 1 || t.kernelThread || t.oomScoreAdj === -1000) return undefined;
  const rss = Number(t.vmRssKb) / PAGE_SIZE_KB;
  const swap = Number(t.vmSwapKb) / PAGE_SIZE_KB;
  const pgtables = cdiv(Number(t.vmPteKb) * 1024, 4096);
  const points = rss + swap + pgtables + t.oomScoreAdj * cdiv(totalPages, 1000);
  return { pid: t.pid, name: t.name, points };
}

/** Every candidate's points, in task-list order, and the one select_bad_process() would take. */
export function referenceVictim(tasks: readonly TaskInfo[], totalPages: number): { victim: Badness; ranked: Badness[] } {
  let victim: Badness | undefined;
  const all: Badness[] = [];
  for (const t of tasks) {
    const b = referenceBadness(t, totalPages);
    if (!b) continue;
    all.push(b);
    if (!victim || b.points >= victim.points) victim = b; // a tie goes to the later task
  }
  if (!victim) throw new Error('no OOM candidate in the task list');
  return { victim, ranked: [...all].sort((a, b) => b.points - a.points) };
}
