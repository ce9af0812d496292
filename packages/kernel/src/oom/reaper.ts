// mm/oom_kill.c (6.18): the oom_reaper in simulated time. OOM_REAPER_DELAY (2 s) after a kill
// it tries to unmap the victim's anonymous and private memory; an attempt fails when the
// mmap_lock is held (mmap_read_trylock), and it retries every HZ/10 up to
// MAX_OOM_REAP_RETRIES (10). Reaped or not, it then sets MMF_OOM_SKIP, so the next OOM may
// choose another victim instead of waiting for this one.
import type { OomTask, OomTickRequest } from '../contracts/oom.js';
import type { OomEvent, OomState } from './types.js';

export const MAX_OOM_REAP_RETRIES = 10;
export const OOM_REAP_RETRY_NS = 100_000_000;

export function runReaper(s: OomState, tick: OomTickRequest): OomEvent[] {
  const events: OomEvent[] = [];
  if (s.profile !== 'linux-6.18') return events;
  let byPid: Map<number, OomTask> | null = null;
  const busy = new Set(tick.mmapLockHeld ?? []);
  for (const v of s.victims) {
    if (v.oomSkip || v.reapAtNs < 0 || v.reapAtNs > tick.nowNs) continue;
    if (byPid === null) {
      byPid = new Map();
      for (const t of tick.tasks) byPid.set(t.pid, t);
    }
    const t = byPid.get(v.pid);
    const attempt = v.reapAttempts + 1;
    if (busy.has(v.pid)) {
      const gaveUp = attempt >= MAX_OOM_REAP_RETRIES;
      events.push({
        type: 'ReaperRan',
        nowNs: tick.nowNs,
        pid: v.pid,
        mmId: v.mmId,
        attempt,
        result: gaveUp ? 'gave-up' : 'busy',
        nextAttemptNs: gaveUp ? -1 : tick.nowNs + OOM_REAP_RETRY_NS,
        logLines: gaveUp ? [`oom_reaper: unable to reap pid:${v.pid} (${v.name})`] : [],
      });
      continue;
    }
    // What stays mapped after reaping: shared file and shmem pages. The model does not split
    // private from shared file pages, so file-rss is printed as vm reports it.
    const mm = t?.mm ?? null;
    events.push({
      type: 'ReaperRan',
      nowNs: tick.nowNs,
      pid: v.pid,
      mmId: v.mmId,
      attempt,
      result: 'reaped',
      nextAttemptNs: -1,
      logLines: [
        `oom_reaper: reaped process ${v.pid} (${v.name}), now anon-rss:0kB, file-rss:${(mm?.rssFile ?? 0) * 4}kB, shmem-rss:${(mm?.rssShmem ?? 0) * 4}kB`,
      ],
    });
  }
  return events;
}
