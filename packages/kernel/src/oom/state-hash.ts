// stateHash(): a canonical walk of the whole (small) state, fields in a fixed order.
import { StateHasher } from '../common/index.js';
import type { OomState } from './types.js';

export function stateHash(s: OomState): string {
  const h = new StateHasher();
  h.bool(s.configured).str(s.profile).int(s.modelVersion);
  h.int(s.policy.panicOnOom).int(s.policy.oomKillAllocatingTask);
  h.int(s.totalRamPages).int(s.totalSwapPages).int(s.killSeq).bool(s.panicked);
  h.int(s.victims.length);
  for (const v of s.victims) {
    h.int(v.pid).int(v.tgid).str(v.name).int(v.mmId).int(v.killSeq).int(v.killedAtNs).bool(v.oomSkip).int(v.reapAtNs).int(v.reapAttempts);
  }
  if (s.earlyoom === null) h.int(-1);
  else {
    const o = s.earlyoom.options;
    h.int(1).int(s.earlyoom.nextPollNs);
    h.int(o.memTermPercent).int(o.memKillPercent).int(o.swapTermPercent).int(o.swapKillPercent);
    h.str(o.prefer).str(o.avoid).str(o.ignore).bool(o.sortByRss).int(o.intervalMs).bool(o.dryRun);
  }
  if (s.oomd === null) h.int(-1);
  else {
    const o = s.oomd.options;
    h.int(2).int(s.oomd.nextPollNs).int(s.oomd.quietUntilNs);
    h.int(o.swapUsedLimitBp).int(o.swapCandidateMinBp).int(o.memoryPressureLimitBp).int(o.memoryPressureDurationMs);
    h.int(o.pressureWindowMs).int(o.intervalMs).int(o.postActionDelayMs).bool(o.dryRun);
    h.int(o.swapMonitored.length);
    for (const p of o.swapMonitored) h.str(p);
    h.int(o.pressureMonitored.length);
    for (const p of o.pressureMonitored) h.str(p);
    h.int(s.oomd.windows.length);
    for (const w of s.oomd.windows) {
      h.int(w.cgroup).int(w.aboveSinceNs).int(w.times.length);
      for (let i = 0; i < w.times.length; i++) h.int(w.times[i]).int(w.stalls[i]).int(w.pgscans[i]);
    }
  }
  const c = s.counters;
  h.int(c.ooms).int(c.kills).int(c.noKills).int(c.userspaceKills).int(c.reaped);
  return h.digest();
}
