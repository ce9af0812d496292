// One badness formula per kernel profile, behind one shape, for tables that show any profile
// (mmsim oom scores, what-if): the points selection compares and /proc/<pid>/oom_score.
import type { KernelProfile } from '../../common/index.js';
import type { OomTask } from '../../contracts/oom.js';
import type { BadnessFactors, Points, SkipReason } from '../types.js';
import { badness2618 } from './linux-2.6.18.js';
import { oomBadness, oomScore618 } from './linux-6.18.js';

export * from './linux-6.18.js';
export * from './linux-2.6.18.js';

export interface ScoredTask {
  readonly factors: BadnessFactors | null;
  readonly points: Points;
  /** Why selection would skip the task by the formula alone (not by the scan's other rules). */
  readonly skip: SkipReason | null;
  readonly oomScore: number;
}

export interface BadnessRules {
  readonly profile: KernelProfile;
  /** On equal points: 'later' (5.9+: "points < chosen -> skip") or 'first' (2.6.18: "points > chosen"). */
  readonly tieGoesTo: 'later' | 'first';
  score(t: OomTask, ctx: { totalPages: number; byPid: ReadonlyMap<number, OomTask>; nowNs: number }): ScoredTask;
}

export const BADNESS: Readonly<Record<KernelProfile, BadnessRules>> = {
  'linux-6.18': {
    profile: 'linux-6.18',
    tieGoesTo: 'later',
    score(t, ctx) {
      const e = oomBadness(t, ctx.totalPages);
      return { factors: e.factors, points: e.points, skip: e.skip, oomScore: oomScore618(e.points, ctx.totalPages) };
    },
  },
  'linux-2.6.18': {
    profile: 'linux-2.6.18',
    tieGoesTo: 'first',
    score(t, ctx) {
      const e = badness2618(t, ctx);
      // select_bad_process() skips pid 1 and OOM_DISABLE; /proc still printed badness() for them.
      const skip: SkipReason | null = t.pid === 1 ? 'global-init' : t.oomAdj === -17 ? 'oom-disable' : null;
      return { factors: e.factors, points: e.points, skip, oomScore: e.points };
    },
  },
};
