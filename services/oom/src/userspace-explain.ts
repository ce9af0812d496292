// A userspace killer's kill (earlyoom, systemd-oomd) in the shape `mmsim oom explain` prints:
// the candidates it ranked (best first) with what it ranked them by, and why it acted.
import type { OomEvent, OomExplanation } from '@mmsim/kernel/oom';

export type UserspaceKillEvent = Extract<OomEvent, { type: 'UserspaceKill' }>;

export function explainUserspaceKill(e: UserspaceKillEvent): OomExplanation {
  const byCgroup = e.kind === 'systemd-oomd';
  const killed = new Set(e.pids);
  const rows = e.ranking.map((c, i) => ({
    pid: byCgroup ? c.cgroup : c.pid,
    name: c.name,
    inputs: { rank: String(c.rank), detail: c.detail },
    points: String(c.rank),
    oomScore: byCgroup ? 0 : c.rank,
    outcome: i === 0 ? ('victim' as const) : ('outscored' as const),
    verdict: i === 0 ? (e.dryRun ? 'would be signalled (dry run)' : `${e.signal}`) : 'ranked lower',
    winner: i === 0 && (byCgroup || killed.has(c.pid)),
  }));
  const what = e.dryRun ? 'dry run, nothing signalled' : `${e.signal} to ${e.pids.join(', ') || 'nobody'}${byCgroup ? ` (cgroup ${e.cgroupPath})` : ''}`;
  return {
    profile: e.kind,
    // not a kernel decision: the explanation's event names the userspace kill
    event: 'UserspaceKill' as unknown as OomExplanation['event'],
    headline: `${e.kind} at ${(e.nowNs / 1e9).toFixed(3)}s: ${what}`,
    columns: [
      { key: 'pid', title: byCgroup ? 'CGROUP' : 'PID', align: 'right' },
      { key: 'name', title: byCgroup ? 'PATH' : 'NAME', align: 'left' },
      { key: 'rank', title: byCgroup ? 'RANKED BY' : 'OOM_SCORE*', align: 'right' },
      { key: 'detail', title: 'DETAIL', align: 'left' },
      { key: 'verdict', title: 'VERDICT', align: 'left' },
    ],
    rows,
    winner: rows[0]?.pid ?? null,
    why: `${e.reason}.${byCgroup ? ' systemd-oomd kills a whole cgroup: every process in it.' : ' earlyoom signals the process with the highest oom_score (--prefer/--avoid adjusted; * ties go to the larger VmRSS).'}`,
    ties: null,
    kills: null,
    logLines: e.logLines,
  };
}
