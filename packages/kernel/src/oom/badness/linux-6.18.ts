// mm/oom_kill.c: oom_badness(), Linux 5.9 and later (signed, in pages), and
// fs/proc/base.c: proc_oom_score(). Checked against a live 6.18 kernel: every process of
// test/fixtures/oom/*.json and of the shared snapshot-a.json.
import { cdiv, PAGE_SIZE } from '../../common/index.js';
import type { OomTask } from '../../contracts/oom.js';
import { OOM_SCORE_ADJ_MIN } from '../points.js';
import type { Badness618Factors, Points, SkipReason } from '../types.js';

export interface Evaluated618 {
  readonly factors: Badness618Factors | null;
  /** 'LONG_MIN': not a candidate (see skip). */
  readonly points: Points;
  readonly skip: SkipReason | null;
}

/** mm/oom_kill.c: oom_unkillable_task(): is_global_init() or PF_KTHREAD. */
export function oomUnkillableTask(t: OomTask): SkipReason | null {
  if (t.tgid === 1) return 'global-init';
  if (t.isKthread) return 'kernel-thread';
  return null;
}

/** Why oom_badness() returns LONG_MIN for the task, in the kernel's order; null: a candidate. */
export function skip618(t: OomTask): SkipReason | null {
  const unkillable = oomUnkillableTask(t);
  if (unkillable !== null) return unkillable;
  const mm = t.mm;
  if (mm === null) return 'no-mm';
  if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN) return 'oom-score-adj-min';
  if (mm.oomSkip) return 'mm-oom-skip';
  if (t.inVfork) return 'in-vfork';
  return null;
}

/** oom_badness()'s inputs; null for an unkillable task or one without mm. adjUnit = totalpages / 1000. */
export function factors618(t: OomTask, adjUnit: number): Badness618Factors | null {
  const mm = t.mm;
  if (mm === null || t.tgid === 1 || t.isKthread) return null;
  return {
    formula: 'linux-6.18',
    rssAnon: mm.rssAnon,
    rssFile: mm.rssFile,
    rssShmem: mm.rssShmem,
    swapEnts: mm.swapEnts,
    pgtables: cdiv(mm.pgtablesBytes, PAGE_SIZE),
    oomScoreAdj: t.oomScoreAdj,
    adjUnit,
  };
}

// mm/oom_kill.c: oom_badness()
export function oomBadness(t: OomTask, totalPages: number): Evaluated618 {
  const unkillable = oomUnkillableTask(t);
  if (unkillable !== null) return { factors: null, points: 'LONG_MIN', skip: unkillable };
  const mm = t.mm; // find_lock_task_mm(): vm sends the thread group's mm
  if (mm === null) return { factors: null, points: 'LONG_MIN', skip: 'no-mm' };
  const factors: Badness618Factors = {
    formula: 'linux-6.18',
    rssAnon: mm.rssAnon,
    rssFile: mm.rssFile,
    rssShmem: mm.rssShmem,
    swapEnts: mm.swapEnts,
    pgtables: cdiv(mm.pgtablesBytes, PAGE_SIZE),
    oomScoreAdj: t.oomScoreAdj,
    adjUnit: cdiv(totalPages, 1000), // "adj *= totalpages / 1000": the division comes first
  };
  // The skip checks come after the lookup of the mm, as in the kernel; the inputs stay in the table.
  if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN) return { factors, points: 'LONG_MIN', skip: 'oom-score-adj-min' };
  if (mm.oomSkip) return { factors, points: 'LONG_MIN', skip: 'mm-oom-skip' };
  if (t.inVfork) return { factors, points: 'LONG_MIN', skip: 'in-vfork' };
  return { factors, points: points618(factors), skip: null };
}

/** get_mm_rss() + swap entries + page-table pages, plus oom_score_adj * (totalpages / 1000). */
export function points618(f: Badness618Factors): number {
  return f.rssFile + f.rssAnon + f.rssShmem + f.swapEnts + f.pgtables + f.oomScoreAdj * f.adjUnit;
}

/**
 * fs/proc/base.c: proc_oom_score(): (1000 + badness * 1000 / totalpages) * 2 / 3 in C long
 * arithmetic (truncating toward zero), 0 for LONG_MIN. totalpages is always the global one:
 * totalram_pages() + total_swap_pages. A small task with adj 0 reads 666.
 */
export function oomScore618(points: Points, totalPages: number): number {
  if (points === 'LONG_MIN') return 0;
  if (typeof points !== 'number') throw new RangeError(`oomScore618: ${points} is not oom_badness() output`);
  const t = totalPages > 0 ? totalPages : 1;
  return cdiv((1000 + cdiv(points * 1000, t)) * 2, 3);
}
