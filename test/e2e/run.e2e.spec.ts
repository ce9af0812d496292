// `mmsim run SCENARIO.json`: the example scenarios (examples/scenarios/) against an embedded
// server over gRPC, each ending as its description says (expectations reasoned from the
// kernel's rules in the comments, not copied from a run); bad scenarios refused before anything
// runs, with the place of the mistake; a step the server refuses stops the run with its index.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, main } from '@mmsim/cli';
import { replayFile } from '@mmsim/eventlog';
import { parseScenario } from '@mmsim/sdk';
import { demoScenario } from '../../packages/cli/src/commands/demo.js';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/scenarios/', import.meta.url));

interface Outcome {
  machine: string;
  steps: number;
  calls: number;
  nullReturns: number;
  killed: number[];
  kills: { seq: number; victim: number; logLine: string }[];
  meminfo: Record<string, number>;
  failed?: { step: number; error: string };
}

describe('mmsim run SCENARIO', () => {
  let srv: EmbeddedServer;
  const mmsim = async (...argv: string[]) => {
    const io = bufferIo();
    const code = await main(argv, io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  const runJson = async (file: string, ...more: string[]): Promise<Outcome> => {
    const r = await mmsim('run', join(EXAMPLES, file), '--endpoint', srv.server.address, '--json', ...more);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as Outcome;
  };
  const names = async (machine: string) =>
    Object.fromEntries((await srv.client.vma.listTasks({ machine: { tenant: 'default', machine }, all: false })).tasks.map((t) => [t.name, t]));

  beforeAll(async () => {
    srv = await startEmbedded();
  });
  afterAll(async () => {
    await srv?.dispose();
  });

  it('wrong-process: the big, well-behaved postgres dies, not the leaking worker', async () => {
    const o = await runJson('wrong-process.json');
    // RAM is 256 MiB (about 203 MiB MemTotal); postgres holds 102 MiB, nginx 8, sshd 2: when
    // memory runs out the worker holds about 203 - 112 = 91 MiB < 102, so postgres has the
    // highest badness (sshd is -1000 and never a candidate).
    expect(o.steps).toBe(8);
    expect(o.kills).toHaveLength(1);
    expect(o.kills[0].logLine).toMatch(/^Out of memory: Killed process \d+ \(postgres\)/);
    const t = await names('wrong-process');
    expect(Object.keys(t).sort()).toEqual(['init', 'leaky-worker', 'nginx', 'sshd']);
  });

  it('wrong-process.json is the demo\'s own scenario (mmsim demo at its defaults)', () => {
    const file = parseScenario(readFileSync(join(EXAMPLES, 'wrong-process.json'), 'utf8'));
    const demo = demoScenario('wrong-process', 256, 'linux-6.18', 42);
    expect(file.steps).toEqual(demo.steps);
    expect({ ...file.machine, ramBytes: 256 * 2 ** 20 }).toEqual({ ...demo.machine, ramBytes: 256 * 2 ** 20 });
  });

  it('tenants-memcg: the kill stays inside the cgroup that hit memory.max', async () => {
    const o = await runJson('tenants-memcg.json');
    // /tenants/a is limited to 48 MiB: a-db holds 12 of it, so the worker reaches about 36 MiB
    // when the cgroup is full, the biggest task in it; b-app (64 MiB, another cgroup) is no
    // candidate, and the machine (512 MiB) is far from a global OOM.
    expect(o.kills).toHaveLength(1);
    expect(o.kills[0].logLine).toMatch(/^Memory cgroup out of memory: Killed process \d+ \(a-worker\)/);
    const t = await names('tenants');
    expect(t['b-app']).toBeDefined();
    expect(t['a-db']).toBeDefined();
    expect(t['a-worker']).toBeUndefined();
    const ev = (await srv.client.vma.cgroup({ machine: { tenant: 'default', machine: 'tenants' }, path: '/tenants/b', op: 'read', file: 'memory.events', value: '', pid: 0 })).value;
    expect(ev).toMatch(/^oom 0$/m);
    expect(ev).toMatch(/^oom_kill 0$/m);
  });

  it('cache-then-anon: the page cache is given back before the OOM killer runs', async () => {
    const o = await runJson('cache-then-anon.json');
    // 144 MiB of clean file pages were read; the app's anonymous memory grows until RAM is
    // full. Clean page cache is reclaimable without swap, so it goes first: by the OOM kill
    // (only the app has anything to free) almost nothing is cached.
    expect(o.kills).toHaveLength(1);
    expect(o.kills[0].logLine).toMatch(/\(app\)/);
    expect(o.meminfo.Cached).toBeLessThan(8 * 1024);
    const vmstat = (await srv.client.readProc({ tenant: 'default', machine: 'cache-then-anon' }, '/proc/vmstat')).text;
    expect(Number(/^pgsteal_file (\d+)$/m.exec(vmstat)?.[1])).toBeGreaterThan((100 * 1024 * 1024) / 4096);
  });

  it('swap: an idle process is swapped out and comes back with major faults; nobody is killed', async () => {
    const o = await runJson('swap.json');
    // 96 MiB idle + 160 MiB hog > 203 MiB of RAM, < RAM + 256 MiB swap.
    expect(o.kills).toHaveLength(0);
    expect(o.meminfo.SwapFree).toBeLessThan(o.meminfo.SwapTotal);
    const vmstat = (await srv.client.readProc({ tenant: 'default', machine: 'swap' }, '/proc/vmstat')).text;
    expect(Number(/^pswpout (\d+)$/m.exec(vmstat)?.[1])).toBeGreaterThan(0);
    expect(Number(/^pswpin (\d+)$/m.exec(vmstat)?.[1])).toBeGreaterThan(0);
    expect(Number(/^pgmajfault (\d+)$/m.exec(vmstat)?.[1])).toBeGreaterThan(0);
  });

  it('swap-max: the tenant that may not swap is OOM-killed in its cgroup; the other swaps and lives', async () => {
    const o = await runJson('swap-max.json');
    // both apps write 64 MiB under memory.max 48M; /a has memory.swap.max 0, so reclaim cannot
    // take its anonymous pages and the memcg OOM kills a-app; b-app's 16 MiB past its limit go
    // to swap.
    expect(o.kills).toHaveLength(1);
    expect(o.kills[0].logLine).toMatch(/^Memory cgroup out of memory: Killed process \d+ \(a-app\)/);
    expect(Object.keys(await names('swap-max'))).toContain('b-app');
    expect(o.meminfo.SwapTotal - o.meminfo.SwapFree).toBeGreaterThanOrEqual(16 * 1024);
    const read = async (path: string, file: string) => (await srv.client.vma.cgroup({ machine: { tenant: 'default', machine: 'swap-max' }, path, op: 'read', file, value: '', pid: 0 })).value.trim();
    expect(Number(await read('/b', 'memory.swap.current'))).toBeGreaterThanOrEqual(16 * 2 ** 20);
    expect(await read('/a', 'memory.swap.current')).toBe('0');
  });

  it('the text report names the kill and how to explain it; --machine and --seed override the file', async () => {
    const r = await mmsim('run', join(EXAMPLES, 'wrong-process.json'), '--endpoint', srv.server.address, '--machine', 'wp-2', '--seed', '9');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^== wp-2: 8 steps ==$/m);
    expect(r.out).toMatch(/1 OOM decision\(s\):\n {2}seq \d+: Out of memory: Killed process \d+ \(postgres\)/);
    expect(r.out).toMatch(/mmsim oom explain --machine wp-2 \d+/);
    const info = await srv.client.machines.getMachine({ machine: { tenant: 'default', machine: 'wp-2' } });
    expect(info.machine!.config!.seed).toBe(9n);
  });

  it('every machine a scenario made replays from its log', async () => {
    for (const m of ['wrong-process', 'tenants', 'cache-then-anon', 'swap', 'swap-max', 'wp-2']) {
      const r = await replayFile(srv.logFile(m), { registry: replayRegistry() });
      expect(r.divergence, m).toBeUndefined();
    }
  });

  it('a bad scenario is refused before anything runs, naming the place (exit 2)', async () => {
    const before = (await srv.client.machines.listMachines({})).machines.length;
    const cases: [unknown, RegExp][] = [
      [{ machine: { name: 'bad1', ramBytes: '256M' }, steps: [{ malloc: { pid: '$nobody', size: '1M' } }] }, /steps\[0\]\.malloc\.pid: \$nobody names no earlier result/],
      [{ machine: { name: 'bad2', ramBytes: '256M' }, steps: [{ spawn: { name: 'a', as: 'a' } }, { repeat: { times: 3, steps: [{ malloc: { pid: '$a', size: '1Q' } }] } }] }, /steps\[1\]\.repeat\.steps\[0\]\.malloc\.size: expected a size/],
      [{ machine: { name: 'bad3', ramBytes: '256M' }, steps: [{ mallco: { pid: 1, size: 1 } }] }, /steps\[0\]: a step is an object with one key, one of spawn, .*; got mallco/],
      [{ machine: { name: 'bad4' }, steps: [] }, /machine\.ramBytes: missing/],
      [{ machine: { name: 'bad5', ramBytes: '256M', profile: 'linux-5.4' }, steps: [] }, /machine\.profile: expected "linux-6\.18" or "linux-2\.6\.18"/],
      [{ machine: { name: 'bad6', ramBytes: '256M' }, steps: [{ spawn: { name: 'a', colour: 'red' } }] }, /steps\[0\]\.spawn\.colour: unknown field/],
    ];
    for (const [scenario, why] of cases) {
      const f = join(srv.dir, 'bad.json');
      writeFileSync(f, JSON.stringify(scenario));
      const r = await mmsim('run', f, '--endpoint', srv.server.address);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(why);
    }
    const f = join(srv.dir, 'bad.json');
    writeFileSync(f, '{"machine": {"name": "x", "ramBytes": "256M"}, "steps": [');
    const r = await mmsim('run', f, '--endpoint', srv.server.address);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.json: not JSON/);
    expect((await srv.client.machines.listMachines({})).machines.length).toBe(before);
  });

  it('a step the server refuses stops the run at that step, and says why (exit 1)', async () => {
    const f = join(srv.dir, 'refused.json');
    writeFileSync(f, JSON.stringify({ machine: { name: 'refused', ramBytes: '256M' }, steps: [{ spawn: { name: 'a', as: 'a' } }, { malloc: { pid: 4242, size: '1M' } }, { malloc: { pid: '$a', size: '1M' } }] }));
    const r = await mmsim('run', f, '--endpoint', srv.server.address);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^1 of 3 steps/m);
    expect(r.err).toMatch(/mmsim run: steps\[1\] failed: .*4242/);
    // the machine keeps what step 0 did
    expect(Object.keys(await names('refused'))).toContain('a');
  });

  it('--reuse runs the steps on the existing machine; without it a second run of the same name is refused', async () => {
    const f = join(srv.dir, 'again.json');
    writeFileSync(f, JSON.stringify({ machine: { name: 'refused', ramBytes: '256M' }, steps: [{ spawn: { name: 'b' } }] }));
    const r1 = await mmsim('run', f, '--endpoint', srv.server.address);
    expect(r1.code).toBe(1);
    expect(r1.err).toMatch(/MACHINE_EXISTS/);
    const r2 = await mmsim('run', f, '--endpoint', srv.server.address, '--reuse');
    expect(r2.code, r2.err).toBe(0);
    expect(Object.keys(await names('refused'))).toEqual(expect.arrayContaining(['a', 'b']));
  });
});
