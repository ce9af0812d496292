// The constants of include/uapi/linux/oom.h and the order of badness values.
import type { Points } from './types.js';

/** include/uapi/linux/oom.h */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;
/** The legacy /proc/<pid>/oom_adj: -17 disables the OOM killer for the task; -16..15 shift badness. */
export const OOM_DISABLE = -17;
export const OOM_ADJUST_MIN = -16;
export const OOM_ADJUST_MAX = 15;

/** A rank that orders every Points value: LONG_MIN below all numbers, LONG_MAX / ULONG_MAX above. */
export function pointsRank(p: Points): number {
  if (typeof p === 'number') return p;
  return p === 'LONG_MIN' ? -Infinity : Infinity;
}

/** -1, 0 or 1 as a < b, a = b, a > b (a marker equals only itself). */
export function comparePoints(a: Points, b: Points): -1 | 0 | 1 {
  if (a === b) return 0;
  const ra = pointsRank(a), rb = pointsRank(b);
  if (ra === rb) return a === 'ULONG_MAX' ? 1 : b === 'ULONG_MAX' ? -1 : 0;
  return ra < rb ? -1 : 1;
}

export const formatPoints = (p: Points | null): string => (p === null ? '-' : String(p));
