// fs/proc/base.c: /proc/<pid>/oom_score_adj and the legacy /proc/<pid>/oom_adj.
import { cdiv } from '../common/index.js';

export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;
export const OOM_DISABLE = -17;
export const OOM_ADJUST_MIN = -17;
export const OOM_ADJUST_MAX = 15;

/** oom_adj_read(): oom_score_adj scaled to -17..15 (OOM_SCORE_ADJ_MAX reads as 15). */
export const legacyOomAdj = (oomScoreAdj: number): number =>
  oomScoreAdj === OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : cdiv(oomScoreAdj * -OOM_DISABLE, OOM_SCORE_ADJ_MAX);

/** oom_adj_write(): a legacy value scaled to oom_score_adj (15 becomes 1000). */
export const oomScoreAdjOfLegacy = (oomAdj: number): number =>
  oomAdj === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : cdiv(oomAdj * OOM_SCORE_ADJ_MAX, -OOM_DISABLE);
