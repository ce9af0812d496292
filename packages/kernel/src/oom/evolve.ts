// (state, event) -> state: applies what the event says and decides nothing.
import { DEFAULT_KERNEL_PROFILE, unreachable } from '../common/index.js';
import { advanceWindow } from './userspace/systemd-oomd.js';
import type { OomEvent, OomState, OomVictimMark, VictimRecord, OomdCgroupWindow } from './types.js';

export function initialState(): OomState {
  return {
    configured: false,
    profile: DEFAULT_KERNEL_PROFILE,
    modelVersion: 0,
    policy: { panicOnOom: 0, oomKillAllocatingTask: 0 },
    totalRamPages: 0,
    totalSwapPages: 0,
    killSeq: 0,
    victims: [],
    panicked: false,
    earlyoom: null,
    oomd: null,
    counters: { ooms: 0, kills: 0, noKills: 0, userspaceKills: 0, reaped: 0 },
  };
}

export function evolve(s: OomState, e: OomEvent): OomState {
  switch (e.type) {
    case 'OomInitialized':
      return {
        ...s,
        configured: true,
        profile: e.config.profile,
        modelVersion: e.modelVersion,
        policy: e.policy,
        totalRamPages: e.totalRamPages,
        totalSwapPages: e.totalSwapPages,
      };
    case 'PolicySet':
      return { ...s, policy: e.policy };
    case 'UserspaceKillerEnabled':
      return e.options.kind === 'earlyoom'
        ? { ...s, earlyoom: { options: e.options, nextPollNs: -1 } }
        : { ...s, oomd: { options: e.options, nextPollNs: -1, quietUntilNs: -1, windows: [] } };
    case 'UserspaceKillerDisabled':
      return e.kind === 'earlyoom' ? { ...s, earlyoom: null } : { ...s, oomd: null };
    case 'OomKillDecided': {
      let victims = s.victims;
      for (const m of e.oomVictims) victims = addVictim(victims, m, e.killSeq, e.request.nowNs);
      return { ...s, killSeq: e.killSeq, victims, counters: { ...s.counters, ooms: s.counters.ooms + 1, kills: s.counters.kills + 1 } };
    }
    case 'OomNoKill':
      return {
        ...s,
        victims: e.marked === null ? s.victims : addVictim(s.victims, e.marked, s.killSeq, e.request.nowNs),
        counters: { ...s.counters, ooms: s.counters.ooms + 1, noKills: s.counters.noKills + 1 },
      };
    case 'OomPanicked':
      return { ...s, panicked: true, counters: { ...s.counters, ooms: s.counters.ooms + 1 } };
    case 'ReaperRan':
      return {
        ...s,
        victims: s.victims.map((v) =>
          v.pid !== e.pid
            ? v
            : e.result === 'busy'
              ? { ...v, reapAttempts: e.attempt, reapAtNs: e.nextAttemptNs }
              : { ...v, reapAttempts: e.attempt, reapAtNs: -1, oomSkip: true },
        ),
        counters: e.result === 'reaped' ? { ...s.counters, reaped: s.counters.reaped + 1 } : s.counters,
      };
    case 'UserspaceKillerPolled':
      if (e.kind === 'earlyoom') return s.earlyoom === null ? s : { ...s, earlyoom: { ...s.earlyoom, nextPollNs: e.nextPollNs } };
      if (s.oomd === null) return s;
      return { ...s, oomd: { ...s.oomd, nextPollNs: e.nextPollNs, windows: applySamples(s.oomd.windows, e, s.oomd.options.pressureWindowMs * 1_000_000) } };
    case 'UserspaceKill':
      return {
        ...s,
        oomd: e.kind === 'systemd-oomd' && s.oomd !== null ? { ...s.oomd, quietUntilNs: e.nowNs + s.oomd.options.postActionDelayMs * 1_000_000 } : s.oomd,
        counters: { ...s.counters, userspaceKills: s.counters.userspaceKills + 1 },
      };
    case 'VictimExited':
      return { ...s, victims: s.victims.filter((v) => v.pid !== e.pid) };
    case 'VictimReaped':
      return { ...s, victims: s.victims.map((v) => (v.pid === e.pid ? { ...v, oomSkip: true, reapAtNs: -1 } : v)) };
    default:
      return unreachable(e, 'oom event');
  }
}

function addVictim(victims: readonly VictimRecord[], m: OomVictimMark, killSeq: number, nowNs: number): VictimRecord[] {
  const rec: VictimRecord = {
    pid: m.pid,
    tgid: m.tgid,
    name: m.name,
    mmId: m.mmId,
    killSeq,
    killedAtNs: nowNs,
    oomSkip: m.oomSkip,
    reapAtNs: m.reapAtNs,
    reapAttempts: 0,
  };
  return [...victims.filter((v) => v.pid !== m.pid), rec];
}

function applySamples(windows: readonly OomdCgroupWindow[], e: Extract<OomEvent, { type: 'UserspaceKillerPolled' }>, windowNs: number): OomdCgroupWindow[] {
  const prev = new Map<number, OomdCgroupWindow>();
  for (const w of windows) prev.set(w.cgroup, w);
  return e.samples.map((x) => advanceWindow(prev.get(x.cgroup), x.cgroup, e.nowNs, x.stallNs, x.pgscan, windowNs, x.aboveSinceNs));
}
