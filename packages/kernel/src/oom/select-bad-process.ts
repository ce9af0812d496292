// The candidate scan of each profile, in the kernel's order, with a row for every task it
// looked at. The tie rules differ and are the point of this file:
//   2.6.18 select_bad_process():  if (points > *ppoints || !chosen) chosen = p;   first found wins
//   6.18   oom_evaluate_task():   if (points == LONG_MIN || points < chosen_points) goto next;  later found wins
import type { OomTask } from '../contracts/oom.js';
import { badness2618 } from './badness/linux-2.6.18.js';
import { cdiv } from '../common/index.js';
import { factors618, oomScore618, points618, skip618 } from './badness/linux-6.18.js';
import { comparePoints, OOM_DISABLE } from './points.js';
import type { Badness618Factors, BadnessFactors, CandidateOutcome, OomCandidate, Points, SkipReason, WinReason } from './types.js';

export interface ScanContext {
  /** totalpages of this OOM (memcg: the cgroup's). */
  readonly totalPages: number;
  /** totalram + total swap: what /proc/<pid>/oom_score divides by. */
  readonly globalTotalPages: number;
  readonly nowNs: number;
  readonly byPid: ReadonlyMap<number, OomTask>;
  /** tsk_is_oom_victim() / TIF_MEMDIE: flagged by vm, or killed by an earlier decision of this machine. */
  isVictim(t: OomTask): boolean;
  /** The victim's mm has MMF_OOM_SKIP (reaped, or exit_mmap finished). */
  victimReaped(t: OomTask): boolean;
}

const EVALUATED = 0, SKIPPED = 1, BLOCKS = 2, NOT_REACHED = 3;

/**
 * The scan's rows as parallel arrays, filled in task order: one candidate object per task is
 * made only at the end (big task lists make the allocator, not the arithmetic, the cost).
 */
class Rows {
  readonly factors: (BadnessFactors | null)[] = [];
  readonly points: (Points | null)[] = [];
  readonly skip: (SkipReason | null)[] = [];
  readonly oomScore: number[] = [];
  readonly state: Uint8Array;
  constructor(readonly tasks: readonly OomTask[]) {
    this.state = new Uint8Array(tasks.length);
  }
  push(state: number, factors: BadnessFactors | null, points: Points | null, oomScore: number, skip: SkipReason | null): void {
    this.state[this.factors.length] = state;
    this.factors.push(factors);
    this.points.push(points);
    this.oomScore.push(oomScore);
    this.skip.push(skip);
  }
}

export interface ScanResult {
  readonly candidates: OomCandidate[];
  /** Index into candidates of the chosen task, -1 when none. */
  readonly chosen: number;
  readonly chosenPoints: Points;
  /** Index of the task that stopped the scan (an unreaped victim / a task releasing memory), -1 when none. */
  readonly blockedBy: number;
  readonly why: WinReason | null;
}

// mm/oom_kill.c (6.18): select_bad_process() -> oom_evaluate_task() for each task
export function scan618(tasks: readonly OomTask[], ctx: ScanContext): ScanResult {
  const rows = new Rows(tasks);
  let chosen = -1;
  let chosenPoints: Points = 'LONG_MIN';
  let blockedBy = -1;
  let origin = false;
  const unit = cdiv(ctx.totalPages, 1000);
  const globalUnit = cdiv(ctx.globalTotalPages, 1000);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    // oom_badness(), inline: its inputs, why it would return LONG_MIN, and /proc's oom_score
    // (which always divides by the global totalpages).
    const f = factors618(t, unit);
    const skip = skip618(t);
    const points = skip === null ? points618(f as Badness618Factors) : 'LONG_MIN';
    const oomScore = skip !== null ? 0 : oomScore618(unit === globalUnit ? points : points618({ ...(f as Badness618Factors), adjUnit: globalUnit }), ctx.globalTotalPages);
    if (blockedBy >= 0) {
      rows.push(NOT_REACHED, f, null, oomScore, null);
      continue;
    }
    if (f === null && t.mm !== null) {
      rows.push(SKIPPED, null, null, oomScore, skip); // init, kernel threads: oom_unkillable_task()
      continue;
    }
    // An earlier victim: skip it once its mm is reaped, else wait for it (no new kill).
    if (ctx.isVictim(t) && skip !== 'global-init' && skip !== 'kernel-thread') {
      if (ctx.victimReaped(t)) {
        rows.push(SKIPPED, f, null, oomScore, 'oom-victim-reaped');
        continue;
      }
      rows.push(BLOCKS, f, null, oomScore, null);
      blockedBy = i;
      chosen = -1;
      continue;
    }
    if (t.oomOrigin && skip !== 'global-init' && skip !== 'kernel-thread') {
      // oom_task_origin(): swapoff / ksm unmerge asked to be killed first.
      rows.push(EVALUATED, f, 'LONG_MAX', oomScore, null);
      chosen = i;
      chosenPoints = 'LONG_MAX';
      origin = true;
      continue;
    }
    if (points === 'LONG_MIN') {
      rows.push(SKIPPED, f, null, oomScore, skip);
      continue;
    }
    rows.push(EVALUATED, f, points, oomScore, null);
    if (comparePoints(points, chosenPoints) < 0) continue;
    chosen = i;
    chosenPoints = points;
    origin = false;
  }
  return finish(rows, chosen, chosenPoints, blockedBy, 'later', origin ? 'oom-task-origin' : null);
}

// mm/oom_kill.c (2.6.18): select_bad_process(), over every thread (do_each_thread)
export function scan2618(tasks: readonly OomTask[], ctx: ScanContext): ScanResult {
  const rows = new Rows(tasks);
  let chosen = -1;
  let chosenPoints = 0;
  let blockedBy = -1;
  let swapoff = false;
  let stopped = false;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    const e = badness2618(t, ctx);
    if (stopped) {
      rows.push(NOT_REACHED, e.factors, null, e.points, null);
      continue;
    }
    if (t.pid === 1) {
      rows.push(SKIPPED, e.factors, null, e.points, 'global-init');
      continue;
    }
    if (t.oomAdj === OOM_DISABLE) {
      rows.push(SKIPPED, e.factors, null, e.points, 'oom-disable');
      continue;
    }
    // "This is in the process of releasing memory so wait for it to finish before killing
    // some other task by mistake": TIF_MEMDIE or PF_EXITING, unless already PF_DEAD (its mm gone).
    const victim = t.oomVictim || ctx.isVictim(t);
    const releasing = victim || t.exiting;
    const dead = t.mm === null && releasing;
    if (releasing && !dead) {
      rows.push(BLOCKS, e.factors, null, e.points, null);
      blockedBy = i;
      chosen = -1;
      stopped = true;
      continue;
    }
    if (t.oomOrigin) {
      // PF_SWAPOFF: returned from the scan at once, before badness() is even called.
      rows.push(EVALUATED, e.factors, 'ULONG_MAX', e.points, null);
      chosen = i;
      swapoff = true;
      stopped = true;
      continue;
    }
    // Kernel threads and dead tasks are not skipped in 2.6.18: badness() gives them 0, and the
    // first task scanned is chosen even at 0 ("|| !chosen").
    rows.push(EVALUATED, e.factors, e.points, e.points, null);
    if (e.points > chosenPoints || chosen < 0) {
      chosen = i;
      chosenPoints = e.points;
    }
  }
  return finish(rows, chosen, swapoff ? 'ULONG_MAX' : chosenPoints, blockedBy, 'first', swapoff ? 'swapoff' : null);
}

/** Rows for a decision that ran no scan (oom_kill_allocating_task): the chosen is `current`. */
export function notScanned(scan: ScanResult, currentPid: number): ScanResult {
  let chosen = -1;
  const candidates = scan.candidates.map((c, i) => {
    if (c.pid === currentPid && chosen < 0) {
      chosen = i;
      return { ...c, outcome: 'victim' as const, skip: null };
    }
    return { ...c, outcome: 'not-considered' as const };
  });
  const chosenPoints = chosen >= 0 ? candidates[chosen].points ?? 'LONG_MIN' : 'LONG_MIN';
  return {
    candidates,
    chosen,
    chosenPoints,
    blockedBy: -1,
    why: { rule: 'allocating-task', tiedWith: chosen >= 0 ? [candidates[chosen].pid] : [], runnerUp: null },
  };
}

function finish(
  rows: Rows,
  chosen: number,
  chosenPoints: Points,
  blockedBy: number,
  tieGoesTo: 'later' | 'first',
  early: 'swapoff' | 'oom-task-origin' | null,
): ScanResult {
  const n = rows.tasks.length;
  const candidates: OomCandidate[] = [];
  const tiedWith: number[] = [];
  let runnerUp = -1;
  let evaluated = 0;
  for (let i = 0; i < n; i++) {
    const t = rows.tasks[i];
    const st = rows.state[i];
    const points = rows.points[i];
    let outcome: CandidateOutcome;
    if (st === SKIPPED) outcome = 'skipped';
    else if (st === BLOCKS) outcome = 'blocks';
    else if (st === NOT_REACHED) outcome = 'not-reached';
    else if (chosen < 0) outcome = 'scored';
    else {
      evaluated++;
      const cmp = comparePoints(points as Points, chosenPoints);
      outcome = i === chosen ? 'victim' : cmp === 0 ? 'lost-tie' : 'outscored';
      if (cmp === 0) tiedWith.push(t.pid);
      if (i !== chosen) {
        if (runnerUp < 0) runnerUp = i;
        else {
          const c = comparePoints(points as Points, rows.points[runnerUp] as Points);
          if (c > 0 || (c === 0 && tieGoesTo === 'later')) runnerUp = i;
        }
      }
    }
    candidates.push({
      pid: t.pid,
      tgid: t.tgid,
      name: t.name,
      uid: t.uid,
      memcg: t.memcg,
      factors: rows.factors[i],
      points,
      oomScore: rows.oomScore[i],
      outcome,
      skip: rows.skip[i],
    });
  }
  let why: WinReason | null = null;
  if (chosen >= 0) {
    const rule: WinReason['rule'] =
      early ?? (evaluated === 1 ? 'only-candidate' : tiedWith.length > 1 ? (tieGoesTo === 'later' ? 'tie-later-wins' : 'tie-first-wins') : 'highest-points');
    why = { rule, tiedWith, runnerUp: runnerUp >= 0 ? rows.tasks[runnerUp].pid : null };
  }
  return { candidates, chosen, chosenPoints: chosen >= 0 ? chosenPoints : 'LONG_MIN', blockedBy, why };
}
