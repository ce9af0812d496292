// memcg OOM through the services: a tenant's cgroup hits memory.max. The kill happens inside
// that cgroup only (candidates are its tasks, totalpages is its limit); with memory.oom.group=1
// every task of the cgroup dies. The other tenant's cgroup is untouched (ps, memory.events).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type Scenario, type Step } from '@mmsim/sdk';
import type { OomExplanation } from '@mmsim/kernel/oom';
import { cdiv, ps, ref, replayClean, startServer, type Server } from './support.js';

const LIMIT_MIB = 24;

function tenants(name: string, oomGroup: boolean): Scenario {
  const setup: Step[] = [
    { cgroup: { path: '/tenants', op: 'mkdir' } },
    { cgroup: { path: '/tenants/a', op: 'mkdir' } },
    { cgroup: { path: '/tenants/b', op: 'mkdir' } },
    { cgroup: { path: '/tenants/a', op: 'write', file: 'memory.max', value: String(LIMIT_MIB * 2 ** 20) } },
  ];
  if (oomGroup) setup.push({ cgroup: { path: '/tenants/a', op: 'write', file: 'memory.oom.group', value: '1' } });
  return {
    machine: { name, ramBytes: '256M', profile: 'linux-6.18', seed: 3 },
    steps: [
      ...setup,
      { spawn: { as: 'b', name: 'b-app', uid: 1002, cgroup: '/tenants/b' } },
      { repeat: { times: 20, steps: [{ malloc: { pid: '$b', size: '1M', write: true } }] } },
      { spawn: { as: 'adb', name: 'a-db', uid: 1001, cgroup: '/tenants/a' } },
      { repeat: { times: 6, steps: [{ malloc: { pid: '$adb', size: '1M', write: true } }] } },
      { spawn: { as: 'aw', name: 'a-worker', uid: 1001, cgroup: '/tenants/a' } },
      { repeat: { times: 40, until: 'oom-kill', steps: [{ malloc: { pid: '$aw', size: '1M', write: true } }] } },
    ],
  };
}

const events = async (srv: Server, machine: string, path: string): Promise<Record<string, number>> => {
  const text = (await srv.client.vma.cgroup({ machine: ref(machine), path, op: 'read', file: 'memory.events', value: '', pid: 0 })).value;
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
};

describe('memcg OOM: a tenant hits memory.max', () => {
  let srv: Server;
  const vars: Record<string, Record<string, number>> = {};
  const bBefore: Record<string, bigint> = {};

  beforeAll(async () => {
    srv = await startServer();
    for (const [name, group] of [['memcg1', false], ['memcg2', true]] as const) {
      const s = tenants(name, group);
      // b-app's memory before the OOM, to compare after
      const r = await runScenario(srv.client, { ...s, steps: s.steps.slice(0, -4) });
      bBefore[name] = (await ps(srv.client, ref(name))).find((t) => t.pid === r.vars.b)!.rssAnonKb;
      const rest = await runScenario(srv.client, { ...s, steps: s.steps.slice(-4).map((st) => JSON.parse(JSON.stringify(st).replace(/"\$b"/g, String(r.vars.b)))) }, { reuseMachine: true });
      vars[name] = { ...r.vars, ...rest.vars };
    }
  });
  afterAll(async () => srv?.dispose());

  it('kills inside the cgroup only: candidates are its tasks, totalpages its limit; the worker (the biggest) dies', async () => {
    const m = 'memcg1';
    const v = vars[m];
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills).toHaveLength(1);
    expect(kills[0].constraint).toMatch(/^memcg \d+$/);
    const x = JSON.parse((await srv.mmsim('oom', 'explain', '--machine', m, '--json')).out) as OomExplanation & { rows: { pid: number; inputs: Record<string, string>; points: string; verdict: string }[] };
    expect(x.headline).toContain('memcg /tenants/a OOM');
    // mem_cgroup_get_max(): memory.max in pages (+ swap, none here)
    expect(x.headline).toContain(`totalpages ${(LIMIT_MIB * 2 ** 20) / 4096}`);
    expect(x.rows.map((r) => r.pid).sort()).toEqual([v.adb, v.aw].sort());
    const unit = cdiv((LIMIT_MIB * 2 ** 20) / 4096, 1000);
    for (const r of x.rows) expect(Number(r.points)).toBe(+r.inputs.anon + +r.inputs.file + +r.inputs.shmem + +r.inputs.swap + +r.inputs.pgtables + +r.inputs.adj * unit);
    const best = x.rows.reduce((a, b) => (Number(b.points) >= Number(a.points) ? b : a));
    expect(best.pid).toBe(v.aw);
    expect(kills[0].killed).toEqual([v.aw]);
  });

  it('the rest of the machine is untouched: b-app alive with the same memory, memory.events counts only in /tenants/a', async () => {
    const m = 'memcg1';
    const v = vars[m];
    const after = await ps(srv.client, ref(m));
    expect(after.find((t) => t.pid === v.b)?.rssAnonKb).toBe(bBefore[m]);
    expect(after.find((t) => t.pid === v.adb)).toBeDefined();
    expect(after.find((t) => t.pid === v.aw)).toBeUndefined();
    expect(await events(srv, m, '/tenants/a')).toMatchObject({ oom: 1, oom_kill: 1, oom_group_kill: 0 });
    expect(await events(srv, m, '/tenants/b')).toMatchObject({ oom: 0, oom_kill: 0, oom_group_kill: 0 });
  });

  it('memory.oom.group=1: every task of the cgroup dies, and nothing else', async () => {
    const m = 'memcg2';
    const v = vars[m];
    const kills = (await srv.client.oom.listKills({ machine: ref(m) })).kills;
    expect(kills).toHaveLength(1);
    expect([...kills[0].killed].sort()).toEqual([v.adb, v.aw].sort());
    const after = await ps(srv.client, ref(m));
    expect(after.filter((t) => t.pid === v.adb || t.pid === v.aw)).toEqual([]);
    expect(after.find((t) => t.pid === v.b)?.rssAnonKb).toBe(bBefore[m]);
    // mm/oom_kill.c: __oom_kill_process(victim) counts MEMCG_OOM_KILL, then mem_cgroup_scan_tasks()
    // calls it for every member of the group, the victim again (its mm is still there): 1 + 2
    expect(await events(srv, m, '/tenants/a')).toMatchObject({ oom: 1, oom_kill: 3, oom_group_kill: 1 });
    expect(await events(srv, m, '/tenants/b')).toMatchObject({ oom: 0, oom_kill: 0, oom_group_kill: 0 });
    const r = await srv.mmsim('oom', 'explain', '--machine', m);
    expect(r.out).toContain('memory.oom.group is set on /tenants/a');
  });

  it('whatif --cgroup /tenants/a:memory.oom.group=1 on the first machine says the whole cgroup would die', async () => {
    const v = vars.memcg1;
    const r = await srv.mmsim('oom', 'whatif', '--machine', 'memcg1', '--cgroup', '/tenants/a:memory.oom.group=1', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.decision.before.killed).toEqual([v.aw]);
    expect([...j.decision.after.killed].sort()).toEqual([v.adb, v.aw].sort());
    // and a bigger limit: no OOM in that cgroup at that point
    const big = await srv.mmsim('oom', 'whatif', '--machine', 'memcg1', '--cgroup', '/tenants/a:memory.max=max');
    expect(big.out).toContain('memory.max of /tenants/a is max');
  });

  it('whatif --continue with memory.oom.group=1: the re-run kills the whole cgroup, b-app untouched either way', async () => {
    const v = vars.memcg1;
    const r = await srv.mmsim('oom', 'whatif', '--machine', 'memcg1', '--cgroup', '/tenants/a:memory.oom.group=1', '--continue', '--json');
    expect(r.code, r.err).toBe(0);
    const c = JSON.parse(r.out).continued;
    expect(c.reproduced).toBe(true);
    expect(c.before.kills.map((k: { victims: { pid: number }[] }) => k.victims.map((x) => x.pid))).toEqual([[v.aw]]);
    expect(c.after.kills[0].victims.map((x: { pid: number }) => x.pid).sort()).toEqual([v.adb, v.aw].sort());
    const alive = (s: { alive: { pid: number }[] }) => s.alive.map((p) => p.pid);
    expect(alive(c.before)).toContain(v.b);
    expect(alive(c.after)).toContain(v.b);
    expect(alive(c.after)).not.toContain(v.adb);
  });

  it('the logs replay: every state hash and OOM decision reproduce', async () => {
    for (const m of ['memcg1', 'memcg2']) {
      const report = await replayClean(srv.logFile(m));
      expect({ m, divergence: report.divergence }).toEqual({ m, divergence: undefined });
    }
  });
});
