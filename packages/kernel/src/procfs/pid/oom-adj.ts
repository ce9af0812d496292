// fs/proc/base.c: /proc/<pid>/oom_score_adj and the legacy /proc/<pid>/oom_adj (read side; the
// writes are the vm command SetOomScoreAdj).
import { notFound } from '../../common/index.js';
import { legacyOomAdj } from '../../vm/oom-adj.js';
import type { VmState } from '../../vm/types.js';

export function renderOomScoreAdj(s: VmState, pid: number): string {
  const t = s.tasks.get(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  return `${t.oomScoreAdj}\n`;
}

/** oom_adj_read(): oom_score_adj * 17 / 1000 (C division), 1000 reads as 15. */
export function renderOomAdj(s: VmState, pid: number): string {
  const t = s.tasks.get(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  return `${legacyOomAdj(t.oomScoreAdj)}\n`;
}
