// OOM policies through the services: vm.panic_on_oom=1 set with `mmsim sysctl`, and
// vm.oom_kill_allocating_task=1 set with MachineService.Sysctl; the earlyoom-like and
// systemd-oomd-like killers enabled with OomService.SetPolicy, acting as time passes
// (MachineService.AdvanceTime). Every log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { runScenario, type Scenario, type Step } from '@mmsim/sdk';
import { ps, ref, replayClean, startServer, type Server } from './support.js';

const base = (name: string, extra: Partial<Scenario['machine']> = {}): Scenario['machine'] => ({ name, ramBytes: '128M', profile: 'linux-6.18', seed: 11, ...extra });
const dbAndWorker = (leak: number, until = true): Step[] => [
  { spawn: { as: 'db', name: 'postgres', uid: 999 } },
  { repeat: { times: 40, steps: [{ malloc: { pid: '$db', size: '1M', write: true } }] } },
  { spawn: { as: 'worker', name: 'worker', uid: 1000 } },
  { repeat: { times: leak, ...(until ? { until: 'oom-kill' as const } : {}), steps: [{ malloc: { pid: '$worker', size: '1M', write: true } }] } },
];

describe('OOM policies: panic_on_oom, oom_kill_allocating_task, earlyoom, systemd-oomd', () => {
  let srv: Server;
  const vars: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => srv?.dispose());

  it('vm.panic_on_oom=1 (mmsim sysctl): the OOM panics the machine instead of killing', async () => {
    const m = 'panic';
    await runScenario(srv.client, { machine: base(m), steps: [] });
    const set = await srv.mmsim('sysctl', 'vm.panic_on_oom', '1', '--machine', m);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toBe('vm.panic_on_oom = 1\n');
    expect((await srv.client.readProc(ref(m), '/proc/sys/vm/panic_on_oom')).text.trim()).toBe('1');
    const r = await runScenario(srv.client, { machine: base(m), steps: dbAndWorker(80, false) }, { reuseMachine: true }).catch((e) => e);
    // the malloc that met the panic gets no memory; after it the machine refuses every command
    expect(r).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(String(r.details)).toMatch(/heap\.BLOCKED: .*\(panic at 0x/);
    const next = await srv.client.vma.spawn({ machine: ref(m), name: 'late', uid: 0, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n }).catch((e) => e);
    expect(next).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(String(next.details)).toContain('vma.MACHINE_PANICKED');
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills.map((k) => k.verdict)).toEqual(['panic']);
    const x = await srv.mmsim('oom', 'explain', '--machine', m);
    expect(x.out).toContain('The kernel panicked instead of killing: panic_on_oom=1');
    expect(x.out).toContain('Kernel panic - not syncing: Out of memory');
  });

  it('--continue with vm.panic_on_oom=0: the same workload kills instead, and goes on', async () => {
    const r = await srv.mmsim('oom', 'whatif', '--machine', 'panic', '--sysctl', 'vm.panic_on_oom=0', '--continue', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.decision.before.kind).toBe('panic');
    expect(j.decision.after.kind).toBe('kill');
    const c = j.continued;
    expect(c.reproduced).toBe(true);
    expect(c.before.panics).toHaveLength(1);
    expect(c.after.panics).toHaveLength(0);
    expect(c.after.kills.length).toBeGreaterThanOrEqual(1);
  });

  it('vm.oom_kill_allocating_task=1 (MachineService.Sysctl): the worker whose allocation failed dies, not the bigger database', async () => {
    const m = 'oakt';
    await runScenario(srv.client, { machine: base(m), steps: [] });
    const set = await srv.client.machines.sysctl({ machine: ref(m), name: 'vm.oom_kill_allocating_task', value: '1' });
    expect(set).toEqual({ name: 'vm.oom_kill_allocating_task', value: '1' });
    const r = await runScenario(srv.client, { machine: base(m), steps: dbAndWorker(80) }, { reuseMachine: true });
    vars[m] = r.vars;
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills.map((k) => [k.verdict, k.victim])).toEqual([['kill', r.vars.worker]]);
    const after = await ps(srv.client, ref(m));
    expect(after.find((t) => t.pid === r.vars.db)).toBeDefined();
    const x = await srv.mmsim('oom', 'explain', '--machine', m);
    expect(x.out.replace(/\s+/g, ' ')).toContain(`pid ${r.vars.worker} (worker) was killed because oom_kill_allocating_task is set`);
    const w = JSON.parse((await srv.mmsim('oom', 'whatif', '--machine', m, '--sysctl', 'vm.oom_kill_allocating_task=0', '--json')).out);
    expect(w.decision.after.killed).toEqual([r.vars.db]);
  });

  it('earlyoom (OomService.SetPolicy): when MemAvailable falls under 10%, the next tick SIGTERMs the highest oom_score', async () => {
    const m = 'earlyoom';
    const r = await runScenario(srv.client, {
      machine: base(m),
      steps: [
        { spawn: { as: 'big', name: 'big', uid: 1000 } },
        { repeat: { times: 40, steps: [{ malloc: { pid: '$big', size: '1M', write: true } }] } },
        { spawn: { as: 'filler', name: 'filler', uid: 1000 } },
      ],
    });
    const on = await srv.mmsim('oom', 'policy', 'earlyoom=on', 'earlyoom.mem_term_percent=10', '--machine', m);
    expect(on.code, on.err).toBe(0);
    let scores: { pid: number; oomScore: number }[] = [];
    let killed: readonly number[] = [];
    for (let i = 0; i < 60 && killed.length === 0; i++) {
      await runScenario(srv.client, { machine: base(m), steps: [{ malloc: { pid: r.vars.filler, size: '1M', write: true } }] }, { reuseMachine: true });
      scores = (await srv.client.oom.scores({ machine: ref(m) })).rows.filter((x) => x.skipReason === '');
      killed = (await srv.client.machines.advanceTime({ machine: ref(m), ns: 200_000_000n })).killed;
      if (killed.length === 0) killed = (await srv.client.oom.listKills({ machine: ref(m) })).kills.flatMap((k) => k.killed);
    }
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills.map((k) => k.verdict)).toEqual(['earlyoom']);
    expect(kills[0].verdict).not.toBe('kill'); // the kernel's OOM killer never ran
    const top = scores.reduce((a, b) => (b.oomScore > a.oomScore ? b : a));
    expect(kills[0].killed).toEqual([top.pid]);
    expect(top.pid).toBe(r.vars.big);
    expect(kills[0].logLine).toMatch(/^mem avail: \d+ of \d+ MiB \(\d+%\)/);
    expect((await ps(srv.client, ref(m))).find((t) => t.pid === r.vars.big)).toBeUndefined();
    const list = await srv.mmsim('oom', 'kills', '--machine', m);
    expect(list.out).toMatch(new RegExp(`earlyoom\\s+earlyoom\\s+global\\s+${r.vars.big} \\(big\\)`));
    const x = await srv.mmsim('oom', 'explain', String(kills[0].seq), '--machine', m);
    expect(x.code, x.err).toBe(0);
    expect(x.out).toMatch(new RegExp(`^earlyoom at [\\d.]+s: SIGTERM to ${r.vars.big}`, 'm'));
    expect(x.out).toMatch(new RegExp(`^\\s*\\*${r.vars.big}\\s+big\\s+${top.oomScore}\\s`, 'm'));
  });

  it('systemd-oomd (SetPolicy, swap_monitored=/work): swap over 90% used; the next poll kills the cgroup using the most', async () => {
    const m = 'oomd';
    const r = await runScenario(srv.client, {
      machine: base(m, { swapBytes: '64M' }),
      steps: [
        { cgroup: { path: '/work', op: 'mkdir' } },
        { cgroup: { path: '/other', op: 'mkdir' } },
        { spawn: { as: 'hog', name: 'hog', uid: 1000, cgroup: '/work' } },
        { spawn: { as: 'bystander', name: 'bystander', uid: 1000, cgroup: '/other' } },
        { repeat: { times: 4, steps: [{ malloc: { pid: '$bystander', size: '1M', write: true } }] } },
      ],
    });
    const on = await srv.client.oom.setPolicy({ machine: ref(m), settings: ['systemd-oomd=on', 'systemd-oomd.swap_monitored=/work,/other'] });
    expect(on.settings).toEqual(['systemd-oomd=on', 'systemd-oomd.swap_monitored=/work,/other']);
    const swapUsed = async (): Promise<number> => {
      const t = (await srv.client.readProc(ref(m), '/proc/meminfo')).text;
      const total = Number(/SwapTotal:\s+(\d+)/.exec(t)![1]);
      return (total - Number(/SwapFree:\s+(\d+)/.exec(t)![1])) / total;
    };
    for (let i = 0; i < 200 && (await swapUsed()) <= 0.91; i++) {
      await runScenario(srv.client, { machine: base(m), steps: [{ malloc: { pid: r.vars.hog, size: '1M', write: true } }] }, { reuseMachine: true });
    }
    expect(await swapUsed()).toBeGreaterThan(0.9);
    expect((await srv.client.oom.listKills({ machine: ref(m) })).kills).toEqual([]);
    const adv = await srv.client.machines.advanceTime({ machine: ref(m), ns: 2_000_000_000n });
    expect(adv.killed).toEqual([r.vars.hog]);
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills.map((k) => [k.verdict, k.constraint, k.killed])).toEqual([['systemd-oomd', '/work', [r.vars.hog]]]);
    expect(kills[0].logLine).toContain('Killed /work due to swap used');
    const x = await srv.mmsim('oom', 'explain', String(kills[0].seq), '--machine', m);
    expect(x.out).toMatch(/^systemd-oomd at [\d.]+s: SIGKILL to \d+ \(cgroup \/work\)/m);
    expect((await ps(srv.client, ref(m))).find((t) => t.pid === r.vars.bystander)).toBeDefined();
  });

  it('every log replays: state hashes and OOM decisions reproduce', async () => {
    for (const m of ['panic', 'oakt', 'earlyoom', 'oomd']) {
      const report = await replayClean(srv.logFile(m));
      expect({ m, divergence: report.divergence }).toEqual({ m, divergence: undefined });
    }
  });
});
