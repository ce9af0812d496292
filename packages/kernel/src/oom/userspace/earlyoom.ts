// An earlyoom-like userspace killer (github.com/rfjakob/earlyoom): it polls /proc/meminfo and
// acts before the kernel would. When MemAvailable AND SwapFree are both at or below their
// SIGTERM limits (10% by default) it sends SIGTERM to the process with the highest
// /proc/<pid>/oom_score; at or below the SIGKILL limits (5%) it sends SIGKILL. A machine without
// swap counts as 0% swap free, so memory alone decides there.
import type { KernelProfile } from '../../common/index.js';
import type { OomTask, OomTickRequest } from '../../contracts/oom.js';
import { BADNESS } from '../badness/index.js';
import { OOM_SCORE_ADJ_MIN } from '../points.js';
import type { EarlyoomState, OomEvent, UserspaceCandidate } from '../types.js';

const MS = 1_000_000;
/** earlyoom's sleep_time_ms(): the fastest fill rates it expects (KiB per ms) and its clamp. */
const MEM_FILL_RATE = 6000;
const SWAP_FILL_RATE = 800;
const MIN_SLEEP_MS = 100;
const MAX_SLEEP_MS = 1000;

export function earlyoomPoll(s: EarlyoomState, tick: OomTickRequest, profile: KernelProfile): OomEvent[] {
  const o = s.options;
  const m = tick.meminfo;
  const memAtOrBelow = (pct: number): boolean => m.memAvailableKb * 100 <= m.memTotalKb * pct;
  // SwapFreePercent is 0 when there is no swap.
  const swapAtOrBelow = (pct: number): boolean => m.swapTotalKb === 0 || m.swapFreeKb * 100 <= m.swapTotalKb * pct;
  let nextMs = o.intervalMs;
  if (nextMs === 0) {
    const memHeadroom = Math.max(0, m.memAvailableKb - Math.floor((m.memTotalKb * o.memTermPercent) / 100));
    const swapHeadroom = Math.max(0, m.swapFreeKb - Math.floor((m.swapTotalKb * o.swapTermPercent) / 100));
    nextMs = Math.floor(memHeadroom / MEM_FILL_RATE) + Math.floor(swapHeadroom / SWAP_FILL_RATE);
    nextMs = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, nextMs));
  }
  const events: OomEvent[] = [{ type: 'UserspaceKillerPolled', kind: 'earlyoom', nowNs: tick.nowNs, nextPollNs: tick.nowNs + nextMs * MS, samples: [] }];
  const signal = memAtOrBelow(o.memKillPercent) && swapAtOrBelow(o.swapKillPercent)
    ? 'SIGKILL'
    : memAtOrBelow(o.memTermPercent) && swapAtOrBelow(o.swapTermPercent)
      ? 'SIGTERM'
      : null;
  if (signal === null) return events;

  const pct = (a: number, b: number): number => (b === 0 ? 0 : Math.floor((a * 100) / b));
  const lines = [
    `mem avail: ${Math.floor(m.memAvailableKb / 1024)} of ${Math.floor(m.memTotalKb / 1024)} MiB (${pct(m.memAvailableKb, m.memTotalKb)}%), ` +
      `swap free: ${Math.floor(m.swapFreeKb / 1024)} of ${Math.floor(m.swapTotalKb / 1024)} MiB (${pct(m.swapFreeKb, m.swapTotalKb)}%)`,
    signal === 'SIGKILL'
      ? `low memory! at or below SIGKILL limits: mem ${o.memKillPercent}%, swap ${o.swapKillPercent}%`
      : `low memory! at or below SIGTERM limits: mem ${o.memTermPercent}%, swap ${o.swapTermPercent}%`,
  ];
  const ranking = rankProcesses(s, tick, profile);
  const victim = ranking[0];
  if (victim === undefined) {
    lines.push('Could not find a process to kill');
    return events;
  }
  lines.push(`${o.dryRun ? 'dryrun: would send' : 'sending'} ${signal} to process ${victim.pid} "${victim.name}": ${victim.detail}`);
  events.push({
    type: 'UserspaceKill',
    kind: 'earlyoom',
    nowNs: tick.nowNs,
    signal,
    reason: `MemAvailable and SwapFree at or below the ${signal} limits (mem ${signal === 'SIGKILL' ? o.memKillPercent : o.memTermPercent}%, swap ${signal === 'SIGKILL' ? o.swapKillPercent : o.swapTermPercent}%)`,
    pids: o.dryRun ? [] : [victim.pid],
    cgroup: -1,
    cgroupPath: '',
    ranking: ranking.slice(0, 8),
    dryRun: o.dryRun,
    logLines: lines,
  });
  return events;
}

/**
 * earlyoom's victim search: every process in /proc order (pid ascending) except pid 1, kernel
 * threads, oom_score_adj -1000 and --ignore matches; the highest oom_score (+300 for
 * --prefer, -300 for --avoid) wins, then the larger VmRSS, then the first found.
 * --sort-by-rss ranks by VmRSS alone.
 */
export function rankProcesses(s: EarlyoomState, tick: OomTickRequest, profile: KernelProfile): UserspaceCandidate[] {
  const o = s.options;
  const prefer = o.prefer ? new RegExp(o.prefer) : null;
  const avoid = o.avoid ? new RegExp(o.avoid) : null;
  const ignore = o.ignore ? new RegExp(o.ignore) : null;
  const totalPages = Math.floor(tick.meminfo.memTotalKb / 4) + Math.floor(tick.meminfo.swapTotalKb / 4);
  const byPid = new Map<number, OomTask>();
  for (const t of tick.tasks) byPid.set(t.pid, t);
  const rules = BADNESS[profile];
  const rows: { c: UserspaceCandidate; rss: number }[] = [];
  const procs = tick.tasks.filter((t) => t.pid === t.tgid).sort((a, b) => a.pid - b.pid);
  for (const t of procs) {
    if (t.pid === 1 || t.isKthread || t.mm === null || t.oomScoreAdj === OOM_SCORE_ADJ_MIN) continue;
    if (ignore?.test(t.name)) continue;
    const rssKb = (t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem) * 4;
    const oomScore = rules.score(t, { totalPages, byPid, nowNs: tick.nowNs }).oomScore;
    let badness = oomScore;
    if (prefer?.test(t.name)) badness += 300;
    if (avoid?.test(t.name)) badness -= 300;
    const rank = o.sortByRss ? rssKb : badness;
    rows.push({ c: { pid: t.pid, cgroup: -1, name: t.name, rank, detail: `oom_score ${oomScore}, badness ${badness}, VmRSS ${Math.floor(rssKb / 1024)} MiB` }, rss: rssKb });
  }
  // A stable sort keeps /proc order among equals, as earlyoom's "first found" does.
  rows.sort((a, b) => b.c.rank - a.c.rank || b.rss - a.rss);
  return rows.map((r) => r.c);
}
