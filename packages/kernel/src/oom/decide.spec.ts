// The oom decider, given / when / then. Expected victims and numbers are worked out by hand
// from mm/oom_kill.c of each profile (comments), never read back from the code.
import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../common/index.js';
import { given } from '../testing/given.js';
import { oom } from './aggregate.js';
import { oomTask } from './task-builder.js';
import { machineConfig, oomInitialized, oomRequest } from './testing.js';
import type { OomEvent } from './types.js';
import { verdictOf } from './verdict.js';

type Decided = Extract<OomEvent, { type: 'OomKillDecided' }>;
type NoKill = Extract<OomEvent, { type: 'OomNoKill' }>;
type Panicked = Extract<OomEvent, { type: 'OomPanicked' }>;

const only = <T extends OomEvent['type']>(events: OomEvent[], type: T): Extract<OomEvent, { type: T }> => {
  expect(events.map((e) => e.type)).toEqual([type]);
  return events[0] as Extract<OomEvent, { type: T }>;
};

// Two tasks with the same memory: 50 pages of anon RSS, total_vm 50, uid 1000, nice 0.
const twin = (pid: number) => oomTask({ pid, mm: { totalVm: 50, rssAnon: 50 } });
const twins = oomRequest({ tasks: [twin(10), twin(11)], totalPages: 1000 });

describe('oom: Configure', () => {
  it('records the profile, the policy and MODEL_VERSION', () => {
    const config = machineConfig('linux-2.6.18', 1000, 0, { panic_on_oom: 1 });
    given(oom, []).when({ type: 'Configure', config }).then([
      { type: 'OomInitialized', config, modelVersion: MODEL_VERSION, policy: { panicOnOom: 1, oomKillAllocatingTask: 0 }, totalRamPages: 1000, totalSwapPages: 0 },
    ]);
  });
  it('refuses a second Configure and any command before the first', () => {
    given(oom, [oomInitialized('linux-6.18')]).when({ type: 'Configure', config: machineConfig('linux-6.18', 10) }).thenRejects('oom.ALREADY_CONFIGURED');
    given(oom, []).when(twins).thenRejects('oom.NOT_CONFIGURED');
  });
});

describe('oom: two tasks with equal badness', () => {
  it('linux-2.6.18 keeps the first task found ("points > *ppoints")', () => {
    const d = only(given(oom, [oomInitialized('linux-2.6.18')]).when(twins).events(), 'OomKillDecided');
    expect(d.chosen).toBe(10);
    expect(d.chosenPoints).toBe(50);
    expect(d.why).toEqual({ rule: 'tie-first-wins', tiedWith: [10, 11], runnerUp: 11 });
    expect(d.candidates.map((c) => c.outcome)).toEqual(['victim', 'lost-tie']);
  });
  it('linux-6.18 takes the later one ("points < chosen_points -> skip")', () => {
    const d = only(given(oom, [oomInitialized('linux-6.18')]).when(twins).events(), 'OomKillDecided');
    expect(d.chosen).toBe(11);
    expect(d.chosenPoints).toBe(50);
    expect(d.why).toEqual({ rule: 'tie-later-wins', tiedWith: [10, 11], runnerUp: 10 });
    expect(d.candidates.map((c) => c.outcome)).toEqual(['lost-tie', 'victim']);
  });
});

describe('oom linux-6.18: selection', () => {
  const init = [oomInitialized('linux-6.18')];

  it('skips adj -1000, init and kernel threads; a negative total still wins over nothing', () => {
    // pid 1 and the kthread are unkillable; pid 30 (adj -1000) is skipped even though biggest.
    // pid 31: 10 - 500 * (1000000 / 1000) = -499990: the only candidate, chosen (chosen_points starts at LONG_MIN).
    const tasks = [
      oomTask({ pid: 1, uid: 0, mm: { rssAnon: 5000 } }),
      oomTask({ pid: 2, isKthread: true, mm: null }),
      oomTask({ pid: 30, oomScoreAdj: -1000, mm: { rssAnon: 900_000 } }),
      oomTask({ pid: 31, oomScoreAdj: -500, mm: { rssAnon: 10 } }),
    ];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    expect(d.chosen).toBe(31);
    expect(d.chosenPoints).toBe(-499_990);
    expect(d.why.rule).toBe('only-candidate');
    expect(d.candidates.map((c) => c.skip)).toEqual(['global-init', 'kernel-thread', 'oom-score-adj-min', null]);
  });

  it('adj 1000 beats a much bigger task', () => {
    // small: 100 + 1000 * 1000 = 1000100 > big: 900000
    const tasks = [oomTask({ pid: 40, mm: { rssAnon: 900_000 } }), oomTask({ pid: 41, oomScoreAdj: 1000, mm: { rssAnon: 100 } })];
    expect(only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided').chosen).toBe(41);
  });

  it('the wrong victim: a big well-behaved database with adj 0 dies instead of the small leaking worker', () => {
    // db: 262144 anon + 1000 file + pgtables 540672 B (132 pages) = 263276 points
    // worker: 60000 anon + 100 file + 122880 B (30 pages) = 60130 points; the worker's fault triggered the OOM.
    const db = oomTask({ pid: 500, name: 'postgres', uid: 999, mm: { totalVm: 300_000, rssAnon: 262_144, rssFile: 1000, pgtablesBytes: 540_672 } });
    const worker = oomTask({ pid: 600, name: 'worker', mm: { totalVm: 70_000, rssAnon: 60_000, rssFile: 100, pgtablesBytes: 122_880 } });
    const events = given(oom, init).when(oomRequest({ tasks: [db, worker], current: 600 })).events();
    const d = only(events, 'OomKillDecided');
    expect(d.chosen).toBe(500);
    expect(d.chosenPoints).toBe(263_276);
    expect(d.why).toEqual({ rule: 'highest-points', tiedWith: [500], runnerUp: 600 });
    // K(x) = 4x kB; pgtables 540672 >> 10 = 528 kB
    expect(d.logLines).toContain(
      'Out of memory: Killed process 500 (postgres) total-vm:1200000kB, anon-rss:1048576kB, file-rss:4000kB, shmem-rss:0kB, UID:999 pgtables:528kB oom_score_adj:0',
    );
    expect(verdictOf(twins, events)).toMatchObject({ kind: 'kill', victim: 500, kill: [500], killSeq: 1, oomKillCount: 1, reapAfterNs: 2_000_000_000 });
  });

  it('oom_task_origin (swapoff) wins with LONG_MAX', () => {
    const tasks = [oomTask({ pid: 50, mm: { rssAnon: 900_000 } }), oomTask({ pid: 51, oomOrigin: true, mm: { rssAnon: 1 } })];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    expect([d.chosen, d.chosenPoints, d.why.rule]).toEqual([51, 'LONG_MAX', 'oom-task-origin']);
  });

  it('only thread-group leaders are candidates', () => {
    const tasks = [oomTask({ pid: 60, mm: { rssAnon: 100 } }), oomTask({ pid: 61, tgid: 60, mm: { mmId: 60, rssAnon: 100 } })];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    expect(d.candidates.map((c) => c.pid)).toEqual([60]);
  });

  it('kills every process sharing the victim mm; one shared with init cannot be reaped', () => {
    const tasks = [
      oomTask({ pid: 1, uid: 0, mm: { mmId: 77, rssAnon: 10 } }),
      oomTask({ pid: 70, mm: { mmId: 77, rssAnon: 5000 } }),
      oomTask({ pid: 71, mm: { mmId: 77, rssAnon: 5000 } }),
      oomTask({ pid: 72, mm: { rssAnon: 10 } }),
    ];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    // 70 and 71 tie at 5000: the later one (71) is the victim, 70 shares its mm.
    expect(d.killed.map((k) => [k.pid, k.why])).toEqual([[71, 'victim'], [70, 'shares-mm']]);
    expect(d.logLines).toContain('oom killer 71 (task71) has mm pinned by 1 (task1)');
    expect(d.oomVictims).toEqual([{ pid: 71, tgid: 71, name: 'task71', mmId: 77, reapAtNs: -1, oomSkip: true }]);
    expect(d.reapAfterNs).toBe(-1);
  });
});

describe('oom linux-6.18: no new kill while the last victim is not reaped; the oom_reaper', () => {
  const big = oomTask({ pid: 80, name: 'big', mm: { rssAnon: 5000 } });
  const small = oomTask({ pid: 81, name: 'small', mm: { rssAnon: 100 } });
  const first = oomRequest({ tasks: [big, small], nowNs: 1_000_000_000 });
  const killed = given(oom, [oomInitialized('linux-6.18')]).when(first).events();
  const tick = (nowNs: number, mmapLockHeld: number[] = []) =>
    ({ type: 'Tick', nowNs, meminfo: { memTotalKb: 4_000_000, memAvailableKb: 1_000_000, swapTotalKb: 0, swapFreeKb: 0 }, tasks: [big, small], cgroups: [], mmapLockHeld }) as const;

  it('a second OOM before the victim is reaped waits (oom_evaluate_task aborts)', () => {
    const again = oomRequest({ tasks: [big, small], nowNs: 1_500_000_000 });
    const events = given(oom, [oomInitialized('linux-6.18'), ...killed]).when(again).events();
    const n = only(events, 'OomNoKill');
    expect([n.reason, n.pid]).toEqual(['victim-not-reaped', 80]);
    expect(n.candidates.map((c) => c.outcome)).toEqual(['blocks', 'not-reached']);
    expect(verdictOf(again, events)).toMatchObject({ kind: 'wait' });
  });

  it('the reaper does nothing before 2 s, then reaps and sets MMF_OOM_SKIP', () => {
    given(oom, [oomInitialized('linux-6.18'), ...killed]).when(tick(2_999_999_999)).thenNothingHappened();
    const events = given(oom, [oomInitialized('linux-6.18'), ...killed]).when(tick(3_000_000_000)).events();
    expect(events).toEqual([
      { type: 'ReaperRan', nowNs: 3_000_000_000, pid: 80, mmId: 80, attempt: 1, result: 'reaped', nextAttemptNs: -1, logLines: ['oom_reaper: reaped process 80 (big), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB'] },
    ]);
    expect(verdictOf(tick(3_000_000_000), events)).toEqual({ signals: [], reap: [{ pid: 80, mmId: 80 }], oomSkip: [80], logLines: events[0].type === 'ReaperRan' ? events[0].logLines : [] });
    // After the reap the old victim is skipped and the next OOM picks the small task.
    const next = given(oom, [oomInitialized('linux-6.18'), ...killed, ...events]).when(oomRequest({ tasks: [big, small], nowNs: 3_100_000_000 })).events();
    const d = only(next, 'OomKillDecided');
    expect([d.chosen, d.killSeq]).toEqual([81, 2]);
    expect(d.candidates[0].skip).toBe('oom-victim-reaped');
  });

  it('retries every 100 ms while the mmap_lock is held, and gives up after 10 tries', () => {
    let history: OomEvent[] = [oomInitialized('linux-6.18'), ...killed];
    let now = 3_000_000_000;
    const results: string[] = [];
    for (let i = 0; i < 10; i++) {
      const ev = given(oom, history).when(tick(now, [80])).events();
      results.push(ev.map((e) => (e.type === 'ReaperRan' ? `${e.attempt}:${e.result}` : e.type)).join());
      history = [...history, ...ev];
      now += 100_000_000;
    }
    expect(results).toEqual(['1:busy', '2:busy', '3:busy', '4:busy', '5:busy', '6:busy', '7:busy', '8:busy', '9:busy', '10:gave-up']);
    const last = history[history.length - 1];
    expect(last.type === 'ReaperRan' && last.logLines).toEqual(['oom_reaper: unable to reap pid:80 (big)']);
  });

  it('VictimExited lets the next OOM kill at once', () => {
    const events = given(oom, [oomInitialized('linux-6.18'), ...killed, { type: 'VictimExited', pid: 80 } as const])
      .when(oomRequest({ tasks: [small], nowNs: 1_200_000_000 }))
      .events();
    expect(only(events, 'OomKillDecided').chosen).toBe(81);
  });
});

describe('oom linux-6.18: policies', () => {
  const tasks = [oomTask({ pid: 90, mm: { rssAnon: 5000 } }), oomTask({ pid: 91, mm: { rssAnon: 10 } })];

  it('panic_on_oom=1 panics on a global OOM', () => {
    const p = only(given(oom, [oomInitialized('linux-6.18', 1_000_000, 0, { panicOnOom: 1 })]).when(oomRequest({ tasks })).events(), 'OomPanicked');
    expect(p.message).toBe('Out of memory: system-wide panic_on_oom is enabled');
  });

  it('panic_on_oom=1 does not panic on a memcg OOM; panic_on_oom=2 does', () => {
    const inCg = tasks.map((t) => ({ ...t, memcg: 5 }));
    const req = oomRequest({ tasks: inCg, memcg: 5, totalPages: 10_000, memcgs: [{ id: 5, parent: 0, oomGroup: false, path: '/job' }] });
    only(given(oom, [oomInitialized('linux-6.18', 1_000_000, 0, { panicOnOom: 1 })]).when(req).events(), 'OomKillDecided');
    const p = only(given(oom, [oomInitialized('linux-6.18', 1_000_000, 0, { panicOnOom: 2 })]).when(req).events(), 'OomPanicked');
    expect(p.message).toBe('Out of memory: compulsory panic_on_oom is enabled');
  });

  it('oom_kill_allocating_task kills the task whose allocation failed, without a scan', () => {
    const events = given(oom, [oomInitialized('linux-6.18', 1_000_000, 0, { oomKillAllocatingTask: 1 })]).when(oomRequest({ tasks, current: 91 })).events();
    const d = only(events, 'OomKillDecided');
    expect([d.chosen, d.why.rule]).toEqual([91, 'allocating-task']);
    expect(d.logLines.some((l) => l.startsWith('Out of memory (oom_kill_allocating_task): Killed process 91 '))).toBe(true);
    expect(d.candidates.map((c) => c.outcome)).toEqual(['not-considered', 'victim']);
  });

  it('oom_kill_allocating_task does not apply to a task with adj -1000: the scan runs', () => {
    const t = [tasks[0], oomTask({ pid: 91, oomScoreAdj: -1000, mm: { rssAnon: 10 } })];
    const d = only(given(oom, [oomInitialized('linux-6.18', 1_000_000, 0, { oomKillAllocatingTask: 1 })]).when(oomRequest({ tasks: t, current: 91 })).events(), 'OomKillDecided');
    expect(d.chosen).toBe(90);
  });

  it('no killable task in a global OOM: "System is deadlocked on memory"', () => {
    const p = only(given(oom, [oomInitialized('linux-6.18')]).when(oomRequest({ tasks: [oomTask({ pid: 1, mm: { rssAnon: 9 } })] })).events(), 'OomPanicked');
    expect([p.message, p.reason]).toEqual(['System is deadlocked on memory', 'no-killable-task']);
  });

  it('a dying allocating task gets the reserves and nobody is killed', () => {
    const t = [tasks[0], oomTask({ pid: 91, exiting: true, mm: { rssAnon: 10 } })];
    const events = given(oom, [oomInitialized('linux-6.18')]).when(oomRequest({ tasks: t, current: 91 })).events();
    const n = only(events, 'OomNoKill');
    expect([n.reason, n.marked?.pid]).toEqual(['current-exiting', 91]);
  });

  it('SetSysctl checks values as the kernel does', () => {
    const s = [oomInitialized('linux-6.18')];
    given(oom, s).when({ type: 'SetSysctl', name: 'panic_on_oom', value: 2 }).then([{ type: 'PolicySet', policy: { panicOnOom: 2, oomKillAllocatingTask: 0 }, sysctl: 'panic_on_oom' }]);
    given(oom, s).when({ type: 'SetSysctl', name: 'panic_on_oom', value: 3 }).thenRejects('oom.BAD_SYSCTL');
    given(oom, s).when({ type: 'SetSysctl', name: 'oom_kill_allocating_task', value: 7 }).then([{ type: 'PolicySet', policy: { panicOnOom: 0, oomKillAllocatingTask: 1 }, sysctl: 'oom_kill_allocating_task' }]);
    given(oom, [oomInitialized('linux-2.6.18')]).when({ type: 'SetSysctl', name: 'oom_kill_allocating_task', value: 1 }).thenRejects('oom.NO_SUCH_SYSCTL');
  });
});

describe('oom linux-6.18: memcg OOM (cgroup v2)', () => {
  // /          (root, 0)
  //   /a       (1)            pid 100 (huge, outside the OOMing subtree)
  //   /b       (2)  OOMing    pid 200 (500 pages)
  //     /b/x   (3)            pid 300 (800 pages), pid 301 (adj -1000), pid 302 (300 pages)
  const memcgs = (groupOn: number[] = []) => [
    { id: 1, parent: 0, oomGroup: false, path: '/a' },
    { id: 2, parent: 0, oomGroup: groupOn.includes(2), path: '/b' },
    { id: 3, parent: 2, oomGroup: groupOn.includes(3), path: '/b/x' },
  ];
  const tasks = [
    oomTask({ pid: 100, memcg: 1, mm: { rssAnon: 900_000 } }),
    oomTask({ pid: 200, memcg: 2, mm: { rssAnon: 500 } }),
    oomTask({ pid: 300, memcg: 3, mm: { rssAnon: 800 } }),
    oomTask({ pid: 301, memcg: 3, oomScoreAdj: -1000, mm: { rssAnon: 50 } }),
    oomTask({ pid: 302, memcg: 3, mm: { rssAnon: 300 } }),
  ];
  const init = [oomInitialized('linux-6.18')];

  it('only the OOMing subtree is scanned, with the cgroup totalpages', () => {
    const req = oomRequest({ tasks, memcg: 2, totalPages: 2048, memcgs: memcgs(), current: 200 });
    const d = only(given(oom, init).when(req).events(), 'OomKillDecided');
    expect(d.candidates.map((c) => c.pid)).toEqual([200, 300, 301, 302]);
    expect([d.chosen, d.constraint, d.totalPages]).toEqual([300, 'CONSTRAINT_MEMCG', 2048]);
    expect(d.killed.map((k) => k.pid)).toEqual([300]);
    expect(d.memcgEvents).toEqual([{ memcg: 2, event: 'oom' }, { memcg: 3, event: 'oom_kill' }]);
    expect(d.logLines.some((l) => l.startsWith('Memory cgroup out of memory: Killed process 300 '))).toBe(true);
  });

  it('memory.oom.group kills every task of the highest such cgroup, sparing adj -1000', () => {
    // oom.group on /b and /b/x: the highest one up to the OOMing /b is /b itself.
    const req = oomRequest({ tasks, memcg: 2, totalPages: 2048, memcgs: memcgs([2, 3]), current: 200 });
    const events = given(oom, init).when(req).events();
    const d = only(events, 'OomKillDecided');
    expect(d.oomGroup).toEqual({ memcg: 2, path: '/b' });
    expect(d.killed.map((k) => [k.pid, k.why])).toEqual([[300, 'victim'], [200, 'oom-group'], [302, 'oom-group']]);
    // __oom_kill_process() runs for the victim, then again for each member (the victim included).
    expect(d.memcgEvents).toEqual([
      { memcg: 2, event: 'oom' },
      { memcg: 3, event: 'oom_kill' },
      { memcg: 2, event: 'oom_group_kill' },
      { memcg: 2, event: 'oom_kill' },
      { memcg: 3, event: 'oom_kill' },
      { memcg: 3, event: 'oom_kill' },
    ]);
    expect(d.oomKillCount).toBe(4);
    expect(verdictOf(req, events)).toMatchObject({ kind: 'kill', victim: 300, kill: [300, 200, 302] });
  });

  it('oom.group below the OOMing cgroup only kills that cgroup', () => {
    const req = oomRequest({ tasks, memcg: 2, totalPages: 2048, memcgs: memcgs([3]), current: 200 });
    const d = only(given(oom, init).when(req).events(), 'OomKillDecided');
    expect(d.killed.map((k) => k.pid)).toEqual([300, 302]);
  });

  it('no candidate: the charge fails with ENOMEM, no kill, and memory.events oom counts', () => {
    const req = oomRequest({ tasks: [tasks[3]], memcg: 3, totalPages: 100, memcgs: memcgs(), current: 301 });
    const events = given(oom, init).when(req).events();
    const n = only(events, 'OomNoKill') as NoKill;
    expect(n.reason).toBe('no-candidate');
    expect(verdictOf(req, events)).toMatchObject({ kind: 'none', chargeFails: true, memcgEvents: [{ memcg: 3, event: 'oom' }] });
  });

  it('a costly order (> 3) fails the charge without an OOM', () => {
    const req = oomRequest({ tasks, memcg: 2, totalPages: 2048, memcgs: memcgs(), current: 200, order: 4 });
    expect((only(given(oom, init).when(req).events(), 'OomNoKill') as NoKill).reason).toBe('costly-order');
  });
});

describe('oom linux-2.6.18', () => {
  const init = [oomInitialized('linux-2.6.18')];

  it('kills a child with its own mm before the chosen parent', () => {
    // server: 1000 + (400 / 2 + 1) + (600 / 2 + 1) = 1502 > child 600 > child 400
    const tasks = [
      oomTask({ pid: 100, name: 'server', children: [101, 102], mm: { totalVm: 1000 } }),
      oomTask({ pid: 101, ppid: 100, name: 'child-a', mm: { totalVm: 400 } }),
      oomTask({ pid: 102, ppid: 100, name: 'child-b', mm: { totalVm: 600 } }),
    ];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    expect([d.chosen, d.chosenPoints]).toEqual([100, 1502]);
    expect(d.killed.map((k) => [k.pid, k.why])).toEqual([[101, 'child']]);
    expect(d.logLines).toEqual([
      'oom-killer: gfp_mask=GFP_HIGHUSER_MOVABLE, order=0',
      'Out of Memory: Kill process 100 (server) score 1502 and children.',
      'Out of memory: Killed process 101 (child-a).',
    ]);
  });

  it('OOM_DISABLE (-17) is skipped, and init', () => {
    const tasks = [oomTask({ pid: 1, mm: { totalVm: 9000 } }), oomTask({ pid: 10, oomAdj: -17, mm: { totalVm: 9000 } }), oomTask({ pid: 11, mm: { totalVm: 5 } })];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided');
    expect(d.chosen).toBe(11);
    expect(d.candidates.map((c) => c.skip)).toEqual(['global-init', 'oom-disable', null]);
  });

  it('aborts while a task has TIF_MEMDIE or is exiting', () => {
    const tasks = [oomTask({ pid: 10, mm: { totalVm: 9000 } }), oomTask({ pid: 11, oomVictim: true, mm: { totalVm: 5 } }), oomTask({ pid: 12, mm: { totalVm: 9 } })];
    const n = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomNoKill') as NoKill;
    expect([n.reason, n.pid]).toEqual(['task-releasing-memory', 11]);
    expect(n.candidates.map((c) => c.outcome)).toEqual(['scored', 'blocks', 'not-reached']);
  });

  it('scores kernel threads 0 and keeps the first one scanned when everyone scores 0 (then hangs)', () => {
    // oom_adj -16: 5 >> 16 = 0. The kthread comes first, "!chosen" takes it, 0 > 0 never replaces it;
    // oom_kill_task() fails on its missing mm and out_of_memory() retries for ever.
    const tasks = [oomTask({ pid: 2, isKthread: true, mm: null }), oomTask({ pid: 10, oomAdj: -16, mm: { totalVm: 5 } })];
    const n = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomNoKill') as NoKill;
    expect([n.reason, n.pid]).toEqual(['chosen-has-no-mm', 2]);
  });

  it('panic_on_oom panics before the scan', () => {
    const p = only(given(oom, [oomInitialized('linux-2.6.18', 1000, 0, { panicOnOom: 1 })]).when(twins).events(), 'OomPanicked') as Panicked;
    expect(p.message).toBe('out of memory. panic_on_oom is selected');
  });

  it('PF_SWAPOFF is returned at once and later tasks are not looked at', () => {
    const tasks = [oomTask({ pid: 10, mm: { totalVm: 100 } }), oomTask({ pid: 11, oomOrigin: true, mm: { totalVm: 5 } }), oomTask({ pid: 12, oomVictim: true, mm: { totalVm: 9 } })];
    const d = only(given(oom, init).when(oomRequest({ tasks })).events(), 'OomKillDecided') as Decided;
    expect([d.chosen, d.chosenPoints, d.why.rule]).toEqual([11, 'ULONG_MAX', 'swapoff']);
    expect(d.candidates.map((c) => c.outcome)).toEqual(['outscored', 'victim', 'not-reached']);
    // *ppoints printed: the best seen before the swapoff task, 100.
    expect(d.logLines[1]).toBe('Out of Memory: Kill process 11 (task11) score 100 and children.');
  });

  it('has no memory cgroups', () => {
    given(oom, init).when(oomRequest({ tasks: [twin(10)], memcg: 1 })).thenRejects('oom.NO_MEMCG_IN_PROFILE');
  });
});

describe('oom: determinism, replay and plain data', () => {
  // A run through most event kinds: configure, a kill, a wait, a reaper pass, an earlyoom kill, an exit.
  const big = oomTask({ pid: 80, name: 'big', mm: { rssAnon: 5000 } });
  const small = oomTask({ pid: 81, name: 'small', mm: { rssAnon: 100 } });
  const meminfo = { memTotalKb: 4_000_000, memAvailableKb: 100_000, swapTotalKb: 0, swapFreeKb: 0 };
  const commands = [
    { type: 'Configure', config: machineConfig('linux-6.18', 1_000_000) },
    { type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { intervalMs: 500 } },
    oomRequest({ tasks: [big, small], nowNs: 1_000_000_000 }),
    oomRequest({ tasks: [big, small], nowNs: 1_100_000_000 }),
    { type: 'Tick', nowNs: 3_000_000_000, meminfo, tasks: [big, small], cgroups: [] },
    { type: 'VictimExited', pid: 80 },
  ] as const;
  const run = () => {
    let s = oom.initialState();
    const log: OomEvent[] = [];
    const hashes: string[] = [];
    for (const c of commands) {
      for (const e of oom.decide(c, s)) {
        s = oom.evolve(s, e);
        log.push(e);
        hashes.push(oom.stateHash(s));
      }
    }
    return { log, hashes, s };
  };

  it('decides the same events and hashes every time, and replay rebuilds the same state', () => {
    const a = run(), b = run();
    expect(b.log).toEqual(a.log);
    expect(b.hashes).toEqual(a.hashes);
    expect(a.log.map((e) => e.type)).toEqual([
      'OomInitialized', 'UserspaceKillerEnabled', 'OomKillDecided', 'OomNoKill', 'ReaperRan', 'UserspaceKillerPolled', 'UserspaceKill', 'VictimExited',
    ]);
    const replayed = a.log.reduce((s, e) => oom.evolve(s, e), oom.initialState());
    expect(oom.stateHash(replayed)).toBe(a.hashes[a.hashes.length - 1]);
    expect(replayed.victims).toEqual([]);
  });

  it('keeps events plain: JSON round trip, integers only, no Map or bigint', () => {
    const { log } = run();
    expect(JSON.parse(JSON.stringify(log))).toEqual(log);
    const walk = (x: unknown, path: string): void => {
      if (typeof x === 'number') expect(Number.isSafeInteger(x), `${path} = ${x}`).toBe(true);
      else if (typeof x === 'bigint' || x instanceof Map || x instanceof Set) throw new Error(`${path} is not plain`);
      else if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (x !== null && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`);
    };
    walk(log, 'log');
  });
});
