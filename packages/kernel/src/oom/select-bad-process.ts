// The candidate scan of each profile, in the kernel's order, with a row for every task it
// looked at. The tie rules differ and are the point of this file:
//   2.6.18 select_bad_process():  if (points > *ppoints || !chosen) chosen = p;   first found wins
//   6.18   oom_evaluate_task():   if (points == LONG_MIN || points < chosen_points) goto next;  later found wins
import type { OomTask } from '../contracts/oom.js';
import { badness2618 } from './badness/linux-2.6.18.js';
import { oomBadness, oomScore618, oomUnkillableTask } from './badness/linux-6.18.js';
import { comparePoints, OOM_DISABLE } from './points.js';
import type { BadnessFactors, CandidateOutcome, OomCandidate, Points, SkipReason, WinReason } from './types.js';

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

interface Row {
  readonly t: OomTask;
  factors: BadnessFactors | null;
  points: Points | null;
  oomScore: number;
  skip: SkipReason | null;
  state: 'evaluated' | 'skipped' | 'blocks' | 'not-reached';
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
  const rows: Row[] = new Array(tasks.length);
  let chosen = -1;
  let chosenPoints: Points = 'LONG_MIN';
  let blockedBy = -1;
  let origin = false;
  const sameTotals = ctx.totalPages === ctx.globalTotalPages;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    const e = oomBadness(t, ctx.totalPages);
    const oomScore = oomScore618(sameTotals ? e.points : oomBadness(t, ctx.globalTotalPages).points, ctx.globalTotalPages);
    if (blockedBy >= 0) {
      rows[i] = { t, factors: e.factors, points: null, oomScore, skip: null, state: 'not-reached' };
      continue;
    }
    const unkillable = oomUnkillableTask(t);
    if (unkillable !== null) {
      rows[i] = { t, factors: null, points: null, oomScore, skip: unkillable, state: 'skipped' };
      continue;
    }
    // An earlier victim: skip it once its mm is reaped, else wait for it (no new kill).
    if (ctx.isVictim(t)) {
      if (ctx.victimReaped(t)) {
        rows[i] = { t, factors: e.factors, points: null, oomScore, skip: 'oom-victim-reaped', state: 'skipped' };
        continue;
      }
      rows[i] = { t, factors: e.factors, points: null, oomScore, skip: null, state: 'blocks' };
      blockedBy = i;
      chosen = -1;
      continue;
    }
    if (t.oomOrigin) {
      // oom_task_origin(): swapoff / ksm unmerge asked to be killed first.
      rows[i] = { t, factors: e.factors, points: 'LONG_MAX', oomScore, skip: null, state: 'evaluated' };
      chosen = i;
      chosenPoints = 'LONG_MAX';
      origin = true;
      continue;
    }
    if (e.points === 'LONG_MIN') {
      rows[i] = { t, factors: e.factors, points: null, oomScore, skip: e.skip, state: 'skipped' };
      continue;
    }
    rows[i] = { t, factors: e.factors, points: e.points, oomScore, skip: null, state: 'evaluated' };
    if (comparePoints(e.points, chosenPoints) < 0) continue;
    chosen = i;
    chosenPoints = e.points;
    origin = false;
  }
  return finish(rows, chosen, chosenPoints, blockedBy, 'later', origin ? 'oom-task-origin' : null);
}

// mm/oom_kill.c (2.6.18): select_bad_process(), over every thread (do_each_thread)
export function scan2618(tasks: readonly OomTask[], ctx: ScanContext): ScanResult {
  const rows: Row[] = new Array(tasks.length);
  let chosen = -1;
  let chosenPoints = 0;
  let blockedBy = -1;
  let swapoff = false;
  let stopped = false;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    const e = badness2618(t, ctx);
    if (stopped) {
      rows[i] = { t, factors: e.factors, points: null, oomScore: e.points, skip: null, state: 'not-reached' };
      continue;
    }
    if (t.pid === 1) {
      rows[i] = { t, factors: e.factors, points: null, oomScore: e.points, skip: 'global-init', state: 'skipped' };
      continue;
    }
    if (t.oomAdj === OOM_DISABLE) {
      rows[i] = { t, factors: e.factors, points: null, oomScore: e.points, skip: 'oom-disable', state: 'skipped' };
      continue;
    }
    // "This is in the process of releasing memory so wait for it to finish before killing
    // some other task by mistake": TIF_MEMDIE or PF_EXITING, unless already PF_DEAD (its mm gone).
    const victim = t.oomVictim || ctx.isVictim(t);
    const releasing = victim || t.exiting;
    const dead = t.mm === null && releasing;
    if (releasing && !dead) {
      rows[i] = { t, factors: e.factors, points: null, oomScore: e.points, skip: null, state: 'blocks' };
      blockedBy = i;
      chosen = -1;
      stopped = true;
      continue;
    }
    if (t.oomOrigin) {
      // PF_SWAPOFF: returned from the scan at once, before badness() is even called.
      rows[i] = { t, factors: e.factors, points: 'ULONG_MAX', oomScore: e.points, skip: null, state: 'evaluated' };
      chosen = i;
      swapoff = true;
      stopped = true;
      continue;
    }
    // Kernel threads and dead tasks are not skipped in 2.6.18: badness() gives them 0, and the
    // first task scanned is chosen even at 0 ("|| !chosen").
    rows[i] = { t, factors: e.factors, points: e.points, oomScore: e.points, skip: null, state: 'evaluated' };
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
  rows: Row[],
  chosen: number,
  chosenPoints: Points,
  blockedBy: number,
  tieGoesTo: 'later' | 'first',
  early: 'swapoff' | 'oom-task-origin' | null,
): ScanResult {
  const candidates: OomCandidate[] = new Array(rows.length);
  const tiedWith: number[] = [];
  let runnerUp = -1;
  let evaluated = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    let outcome: CandidateOutcome;
    if (r.state === 'skipped') outcome = 'skipped';
    else if (r.state === 'blocks') outcome = 'blocks';
    else if (r.state === 'not-reached') outcome = 'not-reached';
    else if (chosen < 0) outcome = 'scored';
    else {
      evaluated++;
      const cmp = comparePoints(r.points as Points, chosenPoints);
      if (i === chosen) outcome = 'victim';
      else outcome = cmp === 0 ? 'lost-tie' : 'outscored';
      if (cmp === 0) tiedWith.push(r.t.pid);
      if (i !== chosen) {
        if (runnerUp < 0) runnerUp = i;
        else {
          const c = comparePoints(r.points as Points, rows[runnerUp].points as Points);
          if (c > 0 || (c === 0 && tieGoesTo === 'later')) runnerUp = i;
        }
      }
    }
    candidates[i] = {
      pid: r.t.pid,
      tgid: r.t.tgid,
      name: r.t.name,
      uid: r.t.uid,
      memcg: r.t.memcg,
      factors: r.factors,
      points: r.points,
      oomScore: r.oomScore,
      outcome,
      skip: r.skip,
    };
  }
  let why: WinReason | null = null;
  if (chosen >= 0) {
    const rule: WinReason['rule'] =
      early ?? (evaluated === 1 ? 'only-candidate' : tiedWith.length > 1 ? (tieGoesTo === 'later' ? 'tie-later-wins' : 'tie-first-wins') : 'highest-points');
    why = { rule, tiedWith, runnerUp: runnerUp >= 0 ? rows[runnerUp].t.pid : null };
  }
  return { candidates, chosen, chosenPoints: chosen >= 0 ? chosenPoints : 'LONG_MIN', blockedBy, why };
}
