import type { OomRequest, OomTickRequest } from '@mmsim/kernel';
import { machineConfig, oom, oomInitialized, oomRequest, oomTask, type OomCommand, type OomDecisionBase, type OomEvent, type OomState } from '@mmsim/kernel/oom';
import * as pb from '@mmsim/proto';
import { describe, expect, it } from 'vitest';
import { expectEnvelopeRoundTrip, expectRoundTrip } from './codec-checks.testing.js';
import { oomCodec } from './oom.js';
import { recordRealEvents } from './real-events.testing.js';
import { EventCodecError } from './scalars.js';

const init = oomTask({ pid: 1, name: 'systemd', uid: 0, capSysAdmin: true, oomScoreAdj: 0, mm: { rssAnon: 300, rssFile: 900, pgtablesBytes: 81920 } });
const kthread = oomTask({ pid: 2, name: 'kthreadd', uid: 0, isKthread: true, mm: null });
const big = oomTask({
  pid: 4_000_000,
  tgid: 4_000_000,
  ppid: 1,
  name: 'java',
  uid: 2 ** 32 - 2,
  euid: 0,
  capSysResource: true,
  capSysRawio: true,
  nice: -20,
  oomScoreAdj: -999,
  oomAdj: -17,
  inVfork: true,
  exiting: true,
  oomVictim: true,
  oomOrigin: true,
  utimeTicks: 2 ** 40,
  stimeTicks: 3,
  startTimeNs: 2 ** 53 - 1,
  memcg: 7,
  mm: { mmId: 9, totalVm: 2 ** 35, rssAnon: 2 ** 33, rssFile: 1, rssShmem: 2, swapEnts: 3, pgtablesBytes: 2 ** 40, oomSkip: true },
  children: [5, 6],
  mmSharers: [8],
});

/** A request with every optional field, and one with none of them. */
const fullRequest: OomRequest = {
  ...oomRequest({ tasks: [init, kthread, big], memcg: 7, memcgs: [
    { id: 0, parent: -1, oomGroup: false, path: '/' },
    { id: 7, parent: 0, oomGroup: true, path: '/sys/fs/cgroup/app', memoryMaxPages: -1, swapMaxPages: 2 ** 40 },
  ], nowNs: 5e9, gfp: 'GFP_KERNEL', order: 3 }),
  totalRamPages: 2 ** 36,
  totalSwapPages: 0,
};
const bareRequest: OomRequest = {
  trigger: { pid: 1, pages: 1, order: 0, gfp: 'GFP_HIGHUSER_MOVABLE', context: 'brk', constraint: { kind: 'global' } },
  totalPages: 0,
  tasks: [],
  nowNs: 0,
};

const base = (request: OomRequest, profile: OomDecisionBase['profile'] = 'linux-6.18'): OomDecisionBase => ({
  profile,
  modelVersion: 3,
  policy: { panicOnOom: 0, oomKillAllocatingTask: 1 },
  request,
  constraint: request.trigger.constraint.kind === 'memcg' ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE',
  totalPages: request.totalPages,
  candidates: [
    { pid: 1, tgid: 1, name: 'systemd', uid: 0, memcg: 0, factors: null, points: null, oomScore: 0, outcome: 'skipped', skip: 'global-init' },
    {
      pid: 4_000_000,
      tgid: 4_000_000,
      name: 'java',
      uid: 2 ** 32 - 2,
      memcg: 7,
      factors: { formula: 'linux-6.18', rssAnon: 2 ** 33, rssFile: 1, rssShmem: 2, swapEnts: 3, pgtables: 2 ** 28, oomScoreAdj: -999, adjUnit: 68719476 },
      points: -68650000000,
      oomScore: 1,
      outcome: 'victim',
      skip: null,
    },
    {
      pid: 5,
      tgid: 5,
      name: 'old',
      uid: 0,
      memcg: 0,
      factors: {
        formula: 'linux-2.6.18',
        totalVm: 1000,
        childrenPoints: 501,
        childrenCounted: 1,
        cpuTime: 16,
        cpuDivisor: 4,
        runTime: 300,
        runDivisor: 4,
        niceDoubled: true,
        adminQuartered: true,
        rawioQuartered: false,
        oomAdj: -3,
      },
      points: 'ULONG_MAX',
      oomScore: 2 ** 53 - 1,
      outcome: 'lost-tie',
      skip: null,
    },
    { pid: 6, tgid: 6, name: 'x', uid: 0, memcg: 0, factors: null, points: 'LONG_MAX', oomScore: 2000, outcome: 'outscored', skip: null },
    { pid: 7, tgid: 7, name: 'y', uid: 0, memcg: 0, factors: null, points: 'LONG_MIN', oomScore: 0, outcome: 'scored', skip: null },
    ...(['kernel-thread', 'no-mm', 'oom-score-adj-min', 'oom-disable', 'mm-oom-skip', 'in-vfork', 'oom-victim-reaped'] as const).map((skip, i) => ({
      pid: 10 + i, tgid: 10 + i, name: skip, uid: 0, memcg: 0, factors: null, points: null, oomScore: 0, outcome: 'skipped' as const, skip,
    })),
    ...(['blocks', 'not-reached', 'not-considered'] as const).map((outcome, i) => ({
      pid: 20 + i, tgid: 20 + i, name: outcome, uid: 0, memcg: 0, factors: null, points: 0, oomScore: 0, outcome, skip: null,
    })),
  ],
  memcgEvents: [{ memcg: 7, event: 'oom' }, { memcg: 7, event: 'oom_kill' }, { memcg: 0, event: 'oom_group_kill' }],
  logLines: ['java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=3, oom_score_adj=-999', ''],
});

const mark = { pid: 4_000_000, tgid: 4_000_000, name: 'java', mmId: 9, reapAtNs: 5_100_000_000, oomSkip: false };

/**
 * At least one event of every type. The mapped type makes a new OomEvent type a compile error
 * here (npx tsc) until it has a sample.
 */
const samples: { [K in OomEvent['type']]: Extract<OomEvent, { type: K }>[] } = {
  OomInitialized: [
    oomInitialized('linux-6.18') as Extract<OomEvent, { type: 'OomInitialized' }>,
    { type: 'OomInitialized', config: machineConfig('linux-2.6.18', 2 ** 26, 2 ** 28, { panic_on_oom: 2 }), modelVersion: 1, policy: { panicOnOom: 2, oomKillAllocatingTask: 0 }, totalRamPages: 2 ** 26, totalSwapPages: 2 ** 28 },
  ],
  PolicySet: [
    { type: 'PolicySet', policy: { panicOnOom: 1, oomKillAllocatingTask: 0 }, sysctl: 'panic_on_oom' },
    { type: 'PolicySet', policy: { panicOnOom: 0, oomKillAllocatingTask: 1 }, sysctl: 'oom_kill_allocating_task' },
    { type: 'PolicySet', policy: { panicOnOom: 2, oomKillAllocatingTask: 1 }, sysctl: null },
  ],
  UserspaceKillerEnabled: [
    {
      type: 'UserspaceKillerEnabled',
      options: { kind: 'earlyoom', memTermPercent: 10, memKillPercent: 5, swapTermPercent: 100, swapKillPercent: 0, prefer: '^(chrome|java)$', avoid: '', ignore: 'sshd', sortByRss: true, intervalMs: 0, dryRun: true },
    },
    {
      type: 'UserspaceKillerEnabled',
      options: {
        kind: 'systemd-oomd', swapUsedLimitBp: 9000, swapCandidateMinBp: 500, memoryPressureLimitBp: 6000, memoryPressureDurationMs: 86_400_000,
        pressureWindowMs: 10_000, intervalMs: 1000, postActionDelayMs: 15_000, swapMonitored: ['/'], pressureMonitored: [], dryRun: false,
      },
    },
  ],
  UserspaceKillerDisabled: [{ type: 'UserspaceKillerDisabled', kind: 'earlyoom' }, { type: 'UserspaceKillerDisabled', kind: 'systemd-oomd' }],
  OomKillDecided: [
    {
      ...base(fullRequest),
      type: 'OomKillDecided',
      trigger: fullRequest.trigger,
      killSeq: 12,
      chosen: 4_000_000,
      chosenPoints: 'LONG_MAX',
      why: { rule: 'oom-task-origin', tiedWith: [4_000_000], runnerUp: 0 },
      killed: [
        { pid: 4_000_000, tgid: 4_000_000, name: 'java', uid: 2 ** 32 - 2, why: 'victim', totalVm: 2 ** 35, rssAnon: 2 ** 33, rssFile: 1, rssShmem: 2, pgtablesBytes: 2 ** 40, oomScoreAdj: -999, mmId: 9, memcg: 7 },
        { pid: 8, tgid: 8, name: 'sharer', uid: 0, why: 'shares-mm', totalVm: 0, rssAnon: 0, rssFile: 0, rssShmem: 0, pgtablesBytes: 0, oomScoreAdj: 1000, mmId: -1, memcg: 7 },
        { pid: 11, tgid: 11, name: 'kid', uid: 0, why: 'child', totalVm: 1, rssAnon: 1, rssFile: 0, rssShmem: 0, pgtablesBytes: 4096, oomScoreAdj: 0, mmId: 11, memcg: 0 },
        { pid: 12, tgid: 12, name: 'member', uid: 0, why: 'oom-group', totalVm: 1, rssAnon: 1, rssFile: 0, rssShmem: 0, pgtablesBytes: 4096, oomScoreAdj: 0, mmId: 12, memcg: 7 },
      ],
      oomGroup: { memcg: 7, path: '/sys/fs/cgroup/app' },
      oomVictims: [mark, { ...mark, pid: 8, tgid: 8, name: 'sharer', mmId: -1, reapAtNs: -1, oomSkip: true }],
      oomKillCount: 4,
      reapAfterNs: 5_100_000_000,
    },
    ...(['highest-points', 'tie-later-wins', 'tie-first-wins', 'only-candidate', 'swapoff', 'allocating-task'] as const).map((rule) => ({
      ...base(bareRequest, 'linux-2.6.18'),
      type: 'OomKillDecided' as const,
      trigger: bareRequest.trigger,
      killSeq: 1,
      chosen: 5,
      chosenPoints: rule === 'swapoff' ? ('ULONG_MAX' as const) : 0,
      why: { rule, tiedWith: [], runnerUp: null },
      killed: [],
      oomGroup: null,
      oomVictims: [],
      oomKillCount: 0,
      reapAfterNs: -1,
    })),
  ],
  OomNoKill: [
    ...(['victim-not-reaped', 'task-releasing-memory', 'current-exiting', 'victim-exiting', 'gfp-no-fs', 'costly-order', 'no-candidate', 'chosen-has-no-mm'] as const).map(
      (reason, i) => ({ ...base(i % 2 ? fullRequest : bareRequest), type: 'OomNoKill' as const, reason, pid: i === 6 ? -1 : 4_000_000, marked: i === 2 ? mark : null }),
    ),
  ],
  OomPanicked: [
    { ...base(bareRequest), type: 'OomPanicked', message: 'Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled', reason: 'panic-on-oom' },
    { ...base(fullRequest, 'linux-2.6.18'), type: 'OomPanicked', message: 'Kernel panic - not syncing: Out of memory and no killable processes...', reason: 'no-killable-task' },
  ],
  ReaperRan: [
    { type: 'ReaperRan', nowNs: 5_100_000_000, pid: 4_000_000, mmId: 9, attempt: 1, result: 'reaped', nextAttemptNs: -1, logLines: ['oom_reaper: reaped process 4000000 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB'] },
    { type: 'ReaperRan', nowNs: 5_100_000_000, pid: 4, mmId: 4, attempt: 2, result: 'busy', nextAttemptNs: 5_200_000_000, logLines: [] },
    { type: 'ReaperRan', nowNs: 6e9, pid: 4, mmId: -1, attempt: 10, result: 'gave-up', nextAttemptNs: -1, logLines: ['oom_reaper: unable to reap pid:4 (x)'] },
  ],
  UserspaceKillerPolled: [
    { type: 'UserspaceKillerPolled', kind: 'earlyoom', nowNs: 0, nextPollNs: 100_000_000, samples: [] },
    {
      type: 'UserspaceKillerPolled',
      kind: 'systemd-oomd',
      nowNs: 2e9,
      nextPollNs: 3e9,
      samples: [{ cgroup: 3, stallNs: 2 ** 50, pgscan: 123456, pressureBp: 10_000, aboveSinceNs: -1 }, { cgroup: 4, stallNs: 0, pgscan: 0, pressureBp: 0, aboveSinceNs: 1e9 }],
    },
  ],
  UserspaceKill: [
    {
      type: 'UserspaceKill',
      kind: 'earlyoom',
      nowNs: 1e9,
      signal: 'SIGTERM',
      reason: 'MemAvailable and SwapFree at or below the SIGTERM limits',
      pids: [100],
      cgroup: -1,
      cgroupPath: '',
      ranking: [{ pid: 100, cgroup: -1, name: 'big', rank: 1066, detail: 'oom_score 1066' }, { pid: 101, cgroup: -1, name: 'meek', rank: -300, detail: 'badness -300' }],
      dryRun: false,
      logLines: ['sending SIGTERM to process 100 "big": oom_score 1066'],
    },
    {
      type: 'UserspaceKill',
      kind: 'systemd-oomd',
      nowNs: 2e9,
      signal: 'SIGKILL',
      reason: 'swap-used-above-limit',
      pids: [],
      cgroup: 4,
      cgroupPath: '/user.slice/app.scope',
      ranking: [{ pid: -1, cgroup: 4, name: '/user.slice/app.scope', rank: 2 ** 40, detail: 'swap 4096 kB' }],
      dryRun: true,
      logLines: ['(dry run) Killed /user.slice/app.scope due to swap used'],
    },
  ],
  VictimExited: [{ type: 'VictimExited', pid: 4_000_000 }],
  VictimReaped: [{ type: 'VictimReaped', pid: 0 }],
};

const all = Object.values(samples).flat() as OomEvent[];

/** The oom aggregate alone, driven with decide/evolve. */
function run(profile: OomDecisionBase['profile'], commands: readonly (OomCommand | OomRequest)[]): OomEvent[] {
  let state: OomState = oom.evolve(oom.initialState(), oomInitialized(profile));
  const out: OomEvent[] = [];
  for (const c of commands) {
    for (const e of oom.decide(c, state)) {
      state = oom.evolve(state, e);
      out.push(e);
    }
  }
  return out;
}

const tick = (nowNs: number, memAvailableKb: number, tasks: OomTickRequest['tasks']): OomTickRequest => ({
  type: 'Tick',
  nowNs,
  meminfo: { memTotalKb: 1_000_000, memAvailableKb, swapTotalKb: 0, swapFreeKb: 0 },
  tasks,
  cgroups: [],
});

describe('oom codec', () => {
  it.each(all.map((e, i) => [`${e.type} #${i}`, e] as const))('round-trips %s exactly', (_t, e) => {
    expectRoundTrip(oomCodec, pb.OomEvent, e);
  });

  it('keeps the request\'s optional fields absent or present as they were', () => {
    const back = (r: OomRequest): OomRequest => {
      const e = oomCodec.fromProto(oomCodec.toProto({ ...base(r), type: 'OomPanicked', message: '', reason: 'panic-on-oom' }));
      return e.type === 'OomPanicked' ? e.request : r;
    };
    expect(Object.keys(back(bareRequest)).sort()).toEqual(['nowNs', 'tasks', 'totalPages', 'trigger']);
    expect(Object.keys(back(fullRequest)).sort()).toEqual(['memcgs', 'nowNs', 'tasks', 'totalPages', 'totalRamPages', 'totalSwapPages', 'trigger', 'type']);
    expect(back({ ...bareRequest, memcgs: [] }).memcgs).toEqual([]);
    const memcgs = back(fullRequest).memcgs ?? [];
    expect(Object.keys(memcgs[0])).not.toContain('memoryMaxPages');
    expect(memcgs[1].memoryMaxPages).toBe(-1);
  });

  it('encodes points and -1 markers as zigzag varints', () => {
    // Points { value (1) = zigzag(-2) = 3 }; Points { marker (2) = LONG_MIN (3) }
    expect([...pb.Points.encode({ points: { $case: 'value', value: -2n } }).finish()]).toEqual([0x08, 0x03]);
    const m = oomCodec.toProto(samples.ReaperRan[2]);
    const bytes = pb.OomEvent.encode(m).finish();
    // reaper_ran (8, LEN) { now_ns, pid = 4, mm_id (3) = zigzag(-1) = 1, attempt = 10, result = GAVE_UP (3), next_attempt_ns (6) = zigzag(-1) = 1, ... }
    expect(m.event?.$case === 'reaperRan' && m.event.value.mmId).toBe(-1);
    expect(Buffer.from(bytes).includes(Buffer.from([0x18, 0x01, 0x20, 0x0a, 0x28, 0x03, 0x30, 0x01]))).toBe(true);
  });

  it('refuses what the TS types cannot hold', () => {
    expect(() => oomCodec.toProto({ type: 'VictimExited', pid: -1 })).toThrow(EventCodecError);
    const policy = { event: { $case: 'policySet' as const, value: { policy: { panicOnOom: 3, oomKillAllocatingTask: 0 }, sysctl: undefined } } };
    expect(() => oomCodec.fromProto(policy)).toThrow(/panicOnOom: 3 is not one of 0, 1, 2/);
    const sysctl = { event: { $case: 'policySet' as const, value: { policy: { panicOnOom: 0, oomKillAllocatingTask: 0 }, sysctl: 'swappiness' } } };
    expect(() => oomCodec.fromProto(sysctl)).toThrow(/sysctl/);
    const m = oomCodec.toProto(samples.OomPanicked[0]);
    const v = m.event?.$case === 'oomPanicked' ? m.event.value : undefined;
    if (!v?.decision) throw new Error('OomPanicked has a decision');
    const bad = { event: { $case: 'oomPanicked' as const, value: { ...v, decision: { ...v.decision, profile: 'linux-5.4' } } } };
    expect(() => oomCodec.fromProto(bad)).toThrow(/unknown kernel profile "linux-5.4"/);
  });

  describe('real events', () => {
    const machines = { 'linux-6.18': recordRealEvents('linux-6.18').oom, 'linux-2.6.18': recordRealEvents('linux-2.6.18').oom };
    const big = oomTask({ pid: 100, name: 'big', mm: { rssAnon: 150_000 } });
    const meek = oomTask({ pid: 101, name: 'meek', oomScoreAdj: -500, mm: { rssAnon: 60_000 } });
    const earlyoom = run('linux-6.18', [
      { type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { intervalMs: 1000, avoid: 'meek' } },
      tick(0, 110_000, [big, meek]),
      tick(1e9, 90_000, [big, meek]),
      tick(2e9, 40_000, [big, meek]),
    ]);
    const kill = run('linux-6.18', [oomRequest({ tasks: [big, meek], totalPages: 250_000 }), { type: 'VictimReaped', pid: 100 }, { type: 'VictimExited', pid: 100 }]);

    it.each(Object.entries(machines))('%s: OOM kills, no-kills, a panic and the reaper, each of a type the samples cover', (_p, events) => {
      const types = new Set(events.map((e) => e.type));
      for (const t of types) expect(samples).toHaveProperty(t);
      for (const t of ['OomInitialized', 'OomKillDecided', 'OomNoKill', 'OomPanicked', 'UserspaceKillerPolled'] as const) expect(types).toContain(t);
      for (const e of events) expect(oomCodec.fromProto(oomCodec.toProto(e))).toStrictEqual(e);
      expectEnvelopeRoundTrip(oomCodec, events, 4);
    });

    it('the 2.6.18 decisions carry 2.6.18 factors, the 6.18 ones 6.18 factors', () => {
      const formulas = (events: OomEvent[]) =>
        new Set(events.flatMap((e) => (e.type === 'OomKillDecided' || e.type === 'OomNoKill' ? e.candidates.flatMap((c) => (c.factors ? [c.factors.formula] : [])) : [])));
      expect([...formulas(machines['linux-2.6.18'])]).toEqual(['linux-2.6.18']);
      expect([...formulas(machines['linux-6.18'])]).toEqual(['linux-6.18']);
    });

    it('earlyoom (decide/evolve): polls, SIGTERM then SIGKILL, round-trip', () => {
      expect(earlyoom.map((e) => e.type)).toEqual([
        'UserspaceKillerEnabled', 'UserspaceKillerPolled', 'UserspaceKillerPolled', 'UserspaceKill', 'UserspaceKillerPolled', 'UserspaceKill',
      ]);
      for (const e of earlyoom) expect(oomCodec.fromProto(oomCodec.toProto(e))).toStrictEqual(e);
      expectEnvelopeRoundTrip(oomCodec, earlyoom, 3);
    });

    it('a kill, then the victim reaped and exited (decide/evolve), round-trip', () => {
      expect(kill.map((e) => e.type)).toEqual(['OomKillDecided', 'VictimReaped', 'VictimExited']);
      for (const e of kill) expect(oomCodec.fromProto(oomCodec.toProto(e))).toStrictEqual(e);
      expectEnvelopeRoundTrip(oomCodec, kill);
    });
  });
});
