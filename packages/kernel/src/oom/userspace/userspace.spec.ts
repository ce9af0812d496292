// The userspace killers, driven through the aggregate with Ticks in simulated time.
import { describe, expect, it } from 'vitest';
import type { OomTask, OomTickCgroup, OomTickRequest } from '../../contracts/oom.js';
import { oom } from '../aggregate.js';
import { oomTask } from '../task-builder.js';
import { oomInitialized } from '../testing.js';
import type { OomCommand, OomEvent, OomState } from '../types.js';
import { verdictOf } from '../verdict.js';

const SEC = 1_000_000_000;

function machine(...setup: OomCommand[]): { state: OomState; run(cmd: OomCommand): OomEvent[] } {
  let state = oom.evolve(oom.initialState(), oomInitialized('linux-6.18'));
  const m = {
    get state() {
      return state;
    },
    run(cmd: OomCommand): OomEvent[] {
      const events = oom.decide(cmd, state);
      for (const e of events) state = oom.evolve(state, e);
      return events;
    },
  };
  for (const c of setup) m.run(c);
  return m;
}

const tick = (nowNs: number, meminfo: OomTickRequest['meminfo'], tasks: readonly OomTask[], cgroups: readonly OomTickCgroup[] = []): OomTickRequest => ({
  type: 'Tick',
  nowNs,
  meminfo,
  tasks,
  cgroups,
});

describe('earlyoom-like killer', () => {
  // MemTotal 1000000 kB = 250000 pages, no swap: totalpages 250000.
  // big: 150000 pages -> oom_score (1000 + 150000000 / 250000) * 2 / 3 = (1000 + 600) * 2 / 3 = 1066
  // chrome: 60000 pages -> (1000 + 240) * 2 / 3 = 826
  const big = oomTask({ pid: 100, name: 'big', mm: { rssAnon: 150_000 } });
  const chrome = oomTask({ pid: 101, name: 'chrome', mm: { rssAnon: 60_000 } });
  const init = oomTask({ pid: 1, name: 'init', mm: { rssAnon: 200_000 } });
  const mem = (availKb: number, swapTotalKb = 0, swapFreeKb = 0) => ({ memTotalKb: 1_000_000, memAvailableKb: availKb, swapTotalKb, swapFreeKb });
  const enable = (options: Record<string, unknown> = {}): OomCommand => ({ type: 'EnableUserspaceKiller', kind: 'earlyoom', options: { intervalMs: 1000, ...options } });

  it('does nothing above 10% MemAvailable, SIGTERMs the highest oom_score at 10%, SIGKILLs at 5%', () => {
    const m = machine(enable());
    expect(m.run(tick(0, mem(110_000), [init, big, chrome])).map((e) => e.type)).toEqual(['UserspaceKillerPolled']);
    // the next poll is due 1 s later: a Tick before that does nothing
    expect(m.run(tick(SEC / 2, mem(90_000), [init, big, chrome]))).toEqual([]);
    const term = m.run(tick(SEC, mem(100_000), [init, big, chrome]));
    const k = term[1];
    expect(k.type === 'UserspaceKill' && [k.signal, k.pids, k.ranking.map((r) => [r.pid, r.rank])]).toEqual(['SIGTERM', [100], [[100, 1066], [101, 826]]]);
    const kill = m.run(tick(2 * SEC, mem(50_000), [init, big, chrome]));
    expect(verdictOf(tick(2 * SEC, mem(50_000), []), kill).signals).toEqual([{ pid: 100, signal: 'SIGKILL', by: 'earlyoom' }]);
  });

  it('needs SwapFree at or below the limit too when there is swap', () => {
    const m = machine(enable());
    expect(m.run(tick(0, mem(40_000, 1_000_000, 500_000), [big])).map((e) => e.type)).toEqual(['UserspaceKillerPolled']);
    expect(m.run(tick(SEC, mem(40_000, 1_000_000, 40_000), [big])).map((e) => e.type)).toEqual(['UserspaceKillerPolled', 'UserspaceKill']);
  });

  it('--prefer adds 300, --avoid takes 300 off, --ignore drops the process', () => {
    const pick = (options: Record<string, unknown>) => {
      const ev = machine(enable(options)).run(tick(0, mem(10_000), [big, chrome]));
      return ev[1].type === 'UserspaceKill' ? ev[1].pids[0] : null;
    };
    expect(pick({})).toBe(100);
    expect(pick({ prefer: '^chrome$' })).toBe(101); // 826 + 300 = 1126 > 1066
    expect(pick({ avoid: 'big' })).toBe(101); // 1066 - 300 = 766 < 826
    expect(pick({ ignore: 'big' })).toBe(101);
  });

  it('breaks an oom_score tie by VmRSS, then by /proc order', () => {
    const a = oomTask({ pid: 200, name: 'a', mm: { rssAnon: 1000 } });
    const b = oomTask({ pid: 201, name: 'b', mm: { rssAnon: 1100 } }); // same oom_score 666 (tiny), more RSS
    const c = oomTask({ pid: 199, name: 'c', mm: { rssAnon: 1100 } });
    const ev = machine(enable()).run(tick(0, mem(10_000), [a, b, c]));
    expect(ev[1].type === 'UserspaceKill' && ev[1].ranking.map((r) => r.pid)).toEqual([199, 201, 200]);
  });

  it('sleeps adaptively between 100 ms and 1 s, like earlyoom', () => {
    const m = machine(enable({ intervalMs: 0 }));
    // headroom (600000 - 100000) kB / 6000 kB per ms = 83 ms -> clamped to 100 ms
    const e1 = m.run(tick(0, mem(600_000), [big]))[0];
    expect(e1.type === 'UserspaceKillerPolled' && e1.nextPollNs).toBe(100_000_000);
    // a machine of 100 GB with 50 GB available: 40 GB of headroom / 6000 -> far above 1000 ms -> 1 s
    const e2 = m.run({ ...tick(SEC, { memTotalKb: 100_000_000, memAvailableKb: 50_000_000, swapTotalKb: 0, swapFreeKb: 0 }, [big]) })[0];
    expect(e2.type === 'UserspaceKillerPolled' && e2.nextPollNs).toBe(2 * SEC);
  });

  it('--dryrun says what it would do and signals nobody', () => {
    const ev = machine(enable({ dryRun: true })).run(tick(0, mem(10_000), [big]));
    expect(ev[1].type === 'UserspaceKill' && [ev[1].pids, ev[1].dryRun, ev[1].logLines[2]]).toEqual([[], true, 'dryrun: would send SIGKILL to process 100 "big": oom_score 1066, badness 1066, VmRSS 585 MiB']);
  });

  it('rejects bad options', () => {
    expect(() => machine(enable({ prefer: '(' }))).toThrow(/not a valid regular expression/);
    expect(() => machine(enable({ memTermPercent: 101 }))).toThrow();
  });
});

describe('systemd-oomd-like killer', () => {
  const cg = (id: number, parent: number, path: string, x: Partial<OomTickCgroup> = {}): OomTickCgroup => ({
    id,
    parent,
    path,
    memoryCurrentPages: 0,
    swapCurrentPages: 0,
    memoryFullStallNs: 0,
    pgscan: 0,
    ...x,
  });
  const tasks = [
    oomTask({ pid: 10, memcg: 2, mm: { rssAnon: 10 } }),
    oomTask({ pid: 11, memcg: 2, mm: { rssAnon: 10 } }),
    oomTask({ pid: 12, memcg: 3, mm: { rssAnon: 10 } }),
    oomTask({ pid: 13, memcg: 4, mm: { rssAnon: 10 } }),
  ];

  describe('swap rule', () => {
    // Swap 1000000 kB, 50000 free: 95% used > 90%.
    // /user.slice/a: 100000 pages = 400000 kB (40% of swap); /user.slice/b: 30000 pages (12%); /system.slice: 10 pages (< 5%)
    const cgroups = (prefA?: 'avoid' | 'omit') => [
      cg(0, 0, '/'),
      cg(1, 0, '/user.slice'),
      cg(2, 1, '/user.slice/a', { swapCurrentPages: 100_000, oomdPreference: prefA }),
      cg(3, 1, '/user.slice/b', { swapCurrentPages: 30_000 }),
      cg(4, 0, '/system.slice', { swapCurrentPages: 10 }),
    ];
    const meminfo = { memTotalKb: 4_000_000, memAvailableKb: 100_000, swapTotalKb: 1_000_000, swapFreeKb: 50_000 };
    const enable: OomCommand = { type: 'EnableUserspaceKiller', kind: 'systemd-oomd' };

    it('kills the whole cgroup using the most swap', () => {
      const ev = machine(enable).run(tick(0, meminfo, tasks, cgroups()));
      const k = ev[1];
      expect(k.type === 'UserspaceKill' && [k.cgroupPath, k.pids, k.ranking.map((r) => r.name)]).toEqual([
        '/user.slice/a',
        [10, 11],
        ['/user.slice/a', '/user.slice/b'],
      ]);
    });

    it('takes an avoided cgroup only when nothing else qualifies, and never an omitted one', () => {
      const avoid = machine(enable).run(tick(0, meminfo, tasks, cgroups('avoid')))[1];
      expect(avoid.type === 'UserspaceKill' && avoid.cgroupPath).toBe('/user.slice/b');
      const omit = machine(enable).run(tick(0, meminfo, tasks, cgroups('omit')))[1];
      expect(omit.type === 'UserspaceKill' && omit.ranking.map((r) => r.name)).toEqual(['/user.slice/b']);
    });

    it('does nothing at 90% or less', () => {
      expect(machine(enable).run(tick(0, { ...meminfo, swapFreeKb: 100_000 }, tasks, cgroups())).map((e) => e.type)).toEqual(['UserspaceKillerPolled']);
    });
  });

  it('pressure rule: 80% full stall on /user.slice for 30 s kills the leaf with the highest pgscan rate, then stays quiet 15 s', () => {
    const m = machine({ type: 'EnableUserspaceKiller', kind: 'systemd-oomd', options: { pressureMonitored: ['/user.slice'], swapMonitored: [] } });
    const meminfo = { memTotalKb: 4_000_000, memAvailableKb: 100_000, swapTotalKb: 0, swapFreeKb: 0 };
    // Each second /user.slice stalls 0.8 s; a reclaims 1000 pages/s, b 5000 pages/s.
    const at = (s: number) => [
      cg(0, 0, '/'),
      cg(1, 0, '/user.slice', { memoryFullStallNs: s * 800_000_000 }),
      cg(2, 1, '/user.slice/a', { pgscan: s * 1000 }),
      cg(3, 1, '/user.slice/b', { pgscan: s * 5000 }),
    ];
    const kills: number[] = [];
    let lastSample: unknown = null;
    for (let s = 0; s <= 50; s++) {
      for (const e of m.run(tick(s * SEC, meminfo, tasks, at(s)))) {
        if (e.type === 'UserspaceKill') kills.push(s);
        if (e.type === 'UserspaceKillerPolled' && s === 1) lastSample = e.samples.find((x) => x.cgroup === 1);
      }
    }
    // pressure is above 60% from t = 1 s (the first window with two samples): 30 s later, at 31 s;
    // then 15 s of quiet (to 46 s), and the pressure, still above since 1 s, kills again at 46 s.
    expect(lastSample).toEqual({ cgroup: 1, stallNs: 800_000_000, pgscan: 0, pressureBp: 8000, aboveSinceNs: SEC });
    expect(kills).toEqual([31, 46]);
  });

  it('the state hash follows the pressure window', () => {
    const m = machine({ type: 'EnableUserspaceKiller', kind: 'systemd-oomd' });
    const h0 = oom.stateHash(m.state);
    m.run(tick(0, { memTotalKb: 1, memAvailableKb: 1, swapTotalKb: 0, swapFreeKb: 0 }, [], [cg(0, 0, '/', { memoryFullStallNs: 5 })]));
    expect(oom.stateHash(m.state)).not.toBe(h0);
    expect(oom.stateHash(m.state)).toMatch(/^[0-9a-f]{16}$/);
  });
});
