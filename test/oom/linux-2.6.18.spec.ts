// A linux-2.6.18 machine: the kill follows the classic badness() of mm/oom_kill.c in 2.6.18,
// computed here by hand for every candidate:
//   points = total_vm + sum over children with their own mm of (child total_vm / 2 + 1)
//   points /= int_sqrt(cpu_time)            cpu_time = (utime + stime in jiffies) >> (SHIFT_HZ + 3)
//   points /= int_sqrt(int_sqrt(run_time))  run_time = (uptime - start_time) seconds >> 10
//   points *= 2 if nice > 0;  /= 4 for root or CAP_SYS_ADMIN;  /= 4 for CAP_SYS_RAWIO
//   points <<= oom_adj (or >>= -oom_adj)
// select_bad_process() keeps the first task with the most points; oom_kill_process() then kills
// the chosen task's first child with its own mm instead ("Kill process ... and children").
// HZ is 1000 (SHIFT_HZ 10); /proc counts CPU time in USER_HZ = 100 ticks a second. The machine
// overcommits always (vm.overcommit_memory=1) so that the leak ends in the OOM killer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '@mmsim/sdk';
import type { TaskInfo } from '@mmsim/proto';
import { ps, ref, replayClean, startServer, type Server } from './support.js';

const M = 'rhel5';
const CPU_TICKS = 200_000; // charged to "cpuhog": 2000 s of CPU
const intSqrt = (x: number): number => Math.floor(Math.sqrt(x)); // exact for these small integers

interface Expect {
  readonly uid: number;
  readonly nice: number;
  readonly cpuTicks: number;
  readonly oomAdj: number;
  readonly children: readonly string[];
}

describe('linux-2.6.18: the classic badness, by hand', () => {
  let srv: Server;
  let vars: Record<string, number>;
  let before: TaskInfo[];

  beforeAll(async () => {
    srv = await startServer();
    const machine = ref(M);
    const setup = await runScenario(srv.client, {
      // overcommit_memory=1: 2.6.18's heuristic refuses a malloc once memory is nearly full, before any page is short
      machine: { name: M, ramBytes: '128M', profile: 'linux-2.6.18', seed: 5, sysctls: { 'vm.overcommit_memory': 1 } },
      steps: [
        { spawn: { as: 'daemon', name: 'daemon', uid: 0 } },
        { repeat: { times: 16, steps: [{ malloc: { pid: '$daemon', size: '1M', write: true } }] } },
        { spawn: { as: 'parent', name: 'parent', uid: 1000 } },
        { repeat: { times: 12, steps: [{ malloc: { pid: '$parent', size: '1M', write: true } }] } },
        { fork: { pid: '$parent', as: 'c1' } },
        { fork: { pid: '$parent', as: 'c2' } },
        { repeat: { times: 4, steps: [{ malloc: { pid: '$c1', size: '1M', write: true } }, { malloc: { pid: '$c2', size: '1M', write: true } }] } },
        { spawn: { as: 'niced', name: 'niced', uid: 1000, nice: 5 } },
        { repeat: { times: 6, steps: [{ malloc: { pid: '$niced', size: '1M', write: true } }] } },
        { spawn: { as: 'cpuhog', name: 'cpuhog', uid: 1000 } },
        { repeat: { times: 12, steps: [{ malloc: { pid: '$cpuhog', size: '1M', write: true } }] } },
        { spawn: { as: 'adj', name: 'adj', uid: 1000 } },
        { repeat: { times: 4, steps: [{ malloc: { pid: '$adj', size: '1M', write: true } }] } },
        { spawn: { as: 'leaker', name: 'leaker', uid: 1000 } },
      ],
    });
    vars = setup.vars;
    await srv.client.vma.chargeCpu({ machine, pid: vars.cpuhog, utimeTicks: BigInt(CPU_TICKS), stimeTicks: 0n });
    await srv.client.vma.setOomScoreAdj({ machine, pid: vars.adj, oomScoreAdj: 1, legacyOomAdj: true });
    // 20000 s later: run_time = 19 for everyone, int_sqrt(int_sqrt(19)) = 2
    await srv.client.machines.advanceTime({ machine, ns: 20_000n * 1_000_000_000n });
    before = await ps(srv.client, machine);
    await runScenario(srv.client, {
      machine: { name: M, ramBytes: '128M' },
      steps: [{ repeat: { times: 200, until: 'oom-kill', steps: [{ malloc: { pid: vars.leaker, size: '1M', write: true } }] } }],
    }, { reuseMachine: true });
  });
  afterAll(async () => srv?.dispose());

  it('every candidate scores what the 2.6.18 formula gives; the first with the most points is chosen; its first child dies', async () => {
    const kills = (await srv.client.oom.listKills({ machine: ref(M) })).kills;
    expect(kills).toHaveLength(1);
    const uptime = Math.floor(Number(kills[0].simTimeNs) / 1e9);
    const r = await srv.mmsim('oom', 'explain', '--machine', M, '--json');
    expect(r.code, r.err).toBe(0);
    const x = JSON.parse(r.out) as { rows: { pid: number; name: string; inputs: Record<string, string>; points: string; verdict: string }[]; profile: string };
    expect(x.profile).toBe('linux-2.6.18');
    const rows = new Map(x.rows.map((row) => [row.pid, row]));
    const totalVm = (name: string): number => Number(rows.get(vars[name])!.inputs.totalVm);
    const spec: Record<string, Expect> = {
      daemon: { uid: 0, nice: 0, cpuTicks: 0, oomAdj: 0, children: [] },
      parent: { uid: 1000, nice: 0, cpuTicks: 0, oomAdj: 0, children: ['c1', 'c2'] },
      c1: { uid: 1000, nice: 0, cpuTicks: 0, oomAdj: 0, children: [] },
      c2: { uid: 1000, nice: 0, cpuTicks: 0, oomAdj: 0, children: [] },
      niced: { uid: 1000, nice: 5, cpuTicks: 0, oomAdj: 0, children: [] },
      cpuhog: { uid: 1000, nice: 0, cpuTicks: CPU_TICKS, oomAdj: 0, children: [] },
      adj: { uid: 1000, nice: 0, cpuTicks: 0, oomAdj: 1, children: [] },
      leaker: { uid: 1000, nice: 0, cpuTicks: 0, oomAdj: 0, children: [] },
    };
    const expected = new Map<string, number>();
    for (const [name, e] of Object.entries(spec)) {
      let points = totalVm(name);
      for (const c of e.children) points += Math.floor(totalVm(c) / 2) + 1;
      const cpuTime = Math.floor((e.cpuTicks * 10) / 2 ** 13); // ticks -> jiffies (HZ 1000), >> (SHIFT_HZ + 3)
      const start = Math.floor(Number(before.find((t) => t.pid === vars[name])!.startTimeNs) / 1e9);
      const runTime = uptime >= start ? Math.floor((uptime - start) / 1024) : 0;
      let s = intSqrt(cpuTime);
      if (s) points = Math.floor(points / s);
      s = intSqrt(intSqrt(runTime));
      if (s) points = Math.floor(points / s);
      if (e.nice > 0) points *= 2;
      if (e.uid === 0) points = Math.floor(points / 4); // root (and spawned root has CAP_SYS_ADMIN)
      if (e.uid === 0) points = Math.floor(points / 4); // CAP_SYS_RAWIO: root has every capability here
      points = e.oomAdj > 0 ? points * 2 ** e.oomAdj : Math.floor(points / 2 ** -e.oomAdj);
      expected.set(name, points);
      expect({ name, points: Number(rows.get(vars[name])!.points) }).toEqual({ name, points });
    }
    // the divisors really applied: 2000 s of CPU -> int_sqrt(244) = 15; 20000 s of run time -> 2
    expect(rows.get(vars.cpuhog)!.inputs.cpu).toBe('15');
    expect(rows.get(vars.daemon)!.inputs.run).toBe('2');
    // total_vm is /proc/<pid>/status VmSize for the survivors
    for (const name of ['daemon', 'parent', 'niced', 'cpuhog', 'adj']) {
      const t = (await ps(srv.client, ref(M))).find((p) => p.pid === vars[name])!;
      expect({ name, vm: Number(t.vmSizeKb) / 4 }).toEqual({ name, vm: totalVm(name) });
    }
    // select_bad_process(): the first task found with strictly more points wins (task-list order = creation order)
    let chosen = '';
    for (const name of Object.keys(spec)) if (chosen === '' || expected.get(name)! > expected.get(chosen)!) chosen = name;
    expect(chosen).toBe('parent');
    expect(rows.get(vars.parent)!.verdict).toBe('VICTIM');
    // oom_kill_process(): a child with its own mm first
    expect(kills[0].victim).toBe(vars.parent);
    expect(kills[0].killed).toEqual([vars.c1]);
    const text = await srv.mmsim('oom', 'explain', '--machine', M);
    expect(text.out.replace(/\s+/g, ' ')).toContain(`pid ${vars.c1} (parent) died instead of pid ${vars.parent}`);
    expect(text.out).toMatch(/Out of Memory: Kill process \d+ \(parent\) score \d+ and children/);
  });

  it('ps after the kill: the child is a zombie its parent has not waited for; the parent and the rest live', async () => {
    const after = await ps(srv.client, ref(M));
    const c1 = after.find((t) => t.pid === vars.c1);
    expect(c1?.state).toBe('Z');
    expect(c1?.exit).toBe('killed by the OOM killer (SIGKILL)');
    for (const name of ['daemon', 'parent', 'c2', 'niced', 'cpuhog', 'adj', 'leaker']) expect(after.find((t) => t.pid === vars[name])?.state).not.toBe('Z');
  });

  it('whatif --policy linux-6.18 on the recorded OOM: the biggest RSS dies instead (no child first)', async () => {
    const j = JSON.parse((await srv.mmsim('oom', 'whatif', '--machine', M, '--policy', 'linux-6.18', '--json')).out);
    expect(j.decision.before.killed).toEqual([vars.c1]);
    expect(j.decision.after.event.profile).toBe('linux-6.18');
    const cands = j.decision.after.event.candidates.filter((c: { points: unknown }) => typeof c.points === 'number');
    const top = cands.reduce((a: { points: number }, b: { points: number }) => (b.points >= a.points ? b : a));
    expect(j.decision.after.killed).toEqual([top.pid]);
  });

  it('whatif --policy linux-6.18 --continue: the machine rebuilt with the 6.18 OOM killer kills the biggest RSS, the workload replays exactly without it', async () => {
    const j = JSON.parse((await srv.mmsim('oom', 'whatif', '--machine', M, '--policy', 'linux-6.18', '--continue', '--json')).out);
    expect(j.continued.reproduced).toBe(true);
    expect(j.continued.before.kills[0].victims.map((x: { pid: number }) => x.pid)).toEqual([vars.c1]);
    expect(j.continued.after.kills[0].by).toBe('linux-6.18 OOM killer');
    expect(j.continued.after.kills[0].victims.map((x: { pid: number }) => x.pid)).toEqual(j.decision.after.killed);
  });

  it('the log replays: every state hash and the OOM decision reproduce', async () => {
    const report = await replayClean(srv.logFile(M));
    expect(report.divergence).toBeUndefined();
  });
});

describe('linux-2.6.18: a tie goes to the first task found', () => {
  let srv: Server;
  let vars: Record<string, number>;

  beforeAll(async () => {
    srv = await startServer();
    // two identical processes (total_vm does not depend on where ASLR put things), bigger than the leaker
    const r = await runScenario(srv.client, {
      machine: { name: 'twins', ramBytes: '128M', profile: 'linux-2.6.18', seed: 9, sysctls: { 'vm.overcommit_memory': 1 } },
      steps: [
        { spawn: { as: 'a', name: 'twin-a', uid: 1000 } },
        { spawn: { as: 'b', name: 'twin-b', uid: 1000 } },
        { repeat: { times: 28, steps: [{ malloc: { pid: '$a', size: '1M', write: true } }, { malloc: { pid: '$b', size: '1M', write: true } }] } },
        { spawn: { as: 'leaker', name: 'leaker', uid: 1000 } },
        { repeat: { times: 100, until: 'oom-kill', steps: [{ malloc: { pid: '$leaker', size: '1M', write: true } }] } },
      ],
    });
    vars = r.vars;
  });
  afterAll(async () => srv?.dispose());

  it('equal points: select_bad_process() replaces only on "points > *ppoints", so the earlier twin dies', async () => {
    const x = JSON.parse((await srv.mmsim('oom', 'explain', '--machine', 'twins', '--json')).out) as { rows: { pid: number; points: string; verdict: string }[]; ties: string | null };
    const a = x.rows.find((r) => r.pid === vars.a)!;
    const b = x.rows.find((r) => r.pid === vars.b)!;
    const leaker = x.rows.find((r) => r.pid === vars.leaker)!;
    expect(a.points).toBe(b.points);
    expect(Number(leaker.points)).toBeLessThan(Number(a.points));
    expect(a.verdict).toBe('VICTIM');
    expect(b.verdict).toBe('lost tie');
    expect(x.ties).toContain(`tied at ${a.points} points; linux-2.6.18 keeps the first task found`);
    const kills = (await srv.client.oom.listKills({ machine: ref('twins') })).kills;
    expect(kills[0].killed).toEqual([vars.a]);
  });
});
