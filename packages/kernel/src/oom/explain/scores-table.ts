// `mmsim oom scores`: every process's badness and /proc/<pid>/oom_score under a profile, as
// `cat /proc/*/oom_score` would show them.
import type { KernelProfile } from '../../common/index.js';
import type { OomTask } from '../../contracts/oom.js';
import { BADNESS } from '../badness/index.js';
import { formatPoints } from '../points.js';
import type { Points, SkipReason } from '../types.js';
import { SKIP_TEXT } from './explain.js';
import { table } from './format.js';

export interface ScoreRow {
  readonly pid: number;
  readonly name: string;
  readonly oomScoreAdj: number;
  readonly oomAdj: number;
  /** Pages. */
  readonly totalVm: number;
  readonly rss: number;
  readonly swap: number;
  readonly pgtables: number;
  readonly points: Points;
  readonly oomScore: number;
  readonly skip: SkipReason | null;
}

/**
 * One row per process (thread-group leader), in list order. totalPages: RAM + swap pages (what
 * /proc/<pid>/oom_score divides by). nowNs: the uptime 2.6.18's run_time reads.
 */
export function scoresTable(tasks: readonly OomTask[], totalPages: number, profile: KernelProfile, nowNs = 0): ScoreRow[] {
  const byPid = new Map<number, OomTask>();
  for (const t of tasks) byPid.set(t.pid, t);
  const rules = BADNESS[profile];
  const rows: ScoreRow[] = [];
  for (const t of tasks) {
    if (t.pid !== t.tgid) continue;
    const s = rules.score(t, { totalPages, byPid, nowNs });
    const mm = t.mm;
    rows.push({
      pid: t.pid,
      name: t.name,
      oomScoreAdj: t.oomScoreAdj,
      oomAdj: t.oomAdj,
      totalVm: mm?.totalVm ?? 0,
      rss: mm ? mm.rssAnon + mm.rssFile + mm.rssShmem : 0,
      swap: mm?.swapEnts ?? 0,
      pgtables: mm ? Math.floor(mm.pgtablesBytes / 4096) : 0,
      points: s.points,
      oomScore: s.oomScore,
      skip: s.skip,
    });
  }
  return rows;
}

/** The table sorted by oom_score, highest first (pid order among equals), or by pid. */
export function formatScoresTable(rows: readonly ScoreRow[], sort: 'oom_score' | 'pid' = 'oom_score'): string {
  const sorted = [...rows].sort((a, b) => (sort === 'pid' ? a.pid - b.pid : b.oomScore - a.oomScore || a.pid - b.pid));
  const columns = [
    { title: 'PID', align: 'right' as const },
    { title: 'NAME', align: 'left' as const },
    { title: 'TOTAL_VM', align: 'right' as const },
    { title: 'RSS', align: 'right' as const },
    { title: 'SWAP', align: 'right' as const },
    { title: 'PGTBL', align: 'right' as const },
    { title: 'ADJ', align: 'right' as const },
    { title: 'POINTS', align: 'right' as const },
    { title: 'OOM_SCORE', align: 'right' as const },
    { title: 'NOTE', align: 'left' as const },
  ];
  const cells = sorted.map((r) => [
    String(r.pid),
    r.name,
    String(r.totalVm),
    String(r.rss),
    String(r.swap),
    String(r.pgtables),
    String(r.oomScoreAdj),
    formatPoints(r.points),
    String(r.oomScore),
    r.skip ? SKIP_TEXT[r.skip] : '',
  ]);
  return table(columns, cells).join('\n') + '\n';
}
