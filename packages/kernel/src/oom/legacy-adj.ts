// fs/proc/base.c: the legacy /proc/<pid>/oom_adj interface over oom_score_adj (2.6.36+).
import { cdiv } from '../common/index.js';
import { OOM_ADJUST_MAX, OOM_DISABLE, OOM_SCORE_ADJ_MAX } from './points.js';

/** oom_adj_read(): OOM_SCORE_ADJ_MAX reads 15, otherwise adj * 17 / 1000 (truncated): 942..999 read 16. */
export function oomAdjFromScoreAdj(oomScoreAdj: number): number {
  if (oomScoreAdj === OOM_SCORE_ADJ_MAX) return OOM_ADJUST_MAX;
  return cdiv(oomScoreAdj * -OOM_DISABLE, OOM_SCORE_ADJ_MAX);
}

/** oom_adj_write(): 15 writes 1000, otherwise oom_adj * 1000 / 17 (truncated); -17 gives -1000. */
export function scoreAdjFromOomAdj(oomAdj: number): number {
  if (oomAdj === OOM_ADJUST_MAX) return OOM_SCORE_ADJ_MAX;
  return cdiv(oomAdj * OOM_SCORE_ADJ_MAX, -OOM_DISABLE);
}
