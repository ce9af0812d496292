// vm against the real frames and oom aggregates (FullMachine: InProcessMachine answering every
// Need by running their decide/evolve).
import { describe, expect, it } from 'vitest';
import { framesFigures, totals as framesTotals } from '../frames/index.js';
import { FullMachine } from './full-machine.js';
import { testConfig } from './testing.js';
import { commitLimit, pteAt } from './queries.js';
import { renderStatus } from '../procfs/pid/index.js';
import type { VmCommand } from './types.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

function spawn(fm: FullMachine, name: string, extra: Partial<Extract<VmCommand, { type: 'Spawn' }>> = {}): number {
  return fm.handle({ type: 'Spawn', name, ...extra }).answer as number;
}
const sys = (fm: FullMachine, pid: number, call: Extract<VmCommand, { type: 'Syscall' }>['call']) => fm.handle({ type: 'Syscall', pid, call }).answer as number;
const mmap = (fm: FullMachine, pid: number, length: number, prot = 3, flags = 0x22) => sys(fm, pid, { nr: 'mmap', addr: 0, length, prot, flags });
const touch = (fm: FullMachine, pid: number, addr: number, length: number) => fm.handle({ type: 'Touch', pid, writes: [{ addr, length }], reads: [] }).answer;

describe('CommitLimit from frames', () => {
  it('is (MemTotal pages * overcommit_ratio / 100 + swap pages) * 4 kB on a 24 GiB machine', () => {
    const fm = new FullMachine(testConfig(24 * 1024, 0));
    const memTotal = framesTotals(fm.frames).totalRamPages;
    expect(commitLimit(fm.state) * 4).toBe(Math.floor((memTotal * 50) / 100) * 4);
    // With snapshot-a's MemTotal (24684084 kB), the same rule gives the 12342040 kB its kernel showed.
    expect(Math.floor(((24684084 / 4) * 50) / 100) * 4).toBe(12342040);
  }, 60_000);
});

describe('vm + frames', () => {
  const small = () => new FullMachine(testConfig(256, 64));

  it('charges Committed_AS as the measured table says', () => {
    const fm = small();
    const pid = spawn(fm, 'p');
    const c = () => fm.state.sc.committed;
    let before = c();
    const a = mmap(fm, pid, 64 * MiB);
    expect(c() - before).toBe(16384);
    before = c();
    mmap(fm, pid, 64 * MiB, 1);
    expect(c() - before).toBe(0);
    before = c();
    mmap(fm, pid, 64 * MiB, 3, 0x22 | 0x4000);
    expect(c() - before).toBe(0);
    before = c();
    mmap(fm, pid, 64 * MiB, 3, 0x21);
    expect(c() - before).toBe(16384);
    before = c();
    sys(fm, pid, { nr: 'munmap', addr: a, length: 64 * MiB });
    expect(c() - before).toBe(-16384);
  });

  it('mode 2 refuses the mapping that crosses the limit; mode 0 only one larger than RAM + swap', () => {
    const fm = new FullMachine(testConfig(256, 64, { overcommit_memory: 2 }));
    const pid = spawn(fm, 'user', { uid: 1000 });
    const s = fm.state;
    const task = s.tasks.get(pid)!;
    const mm = s.mms.get(task.mmId)!;
    const allowed = commitLimit(s) - s.sc.adminReserveKbytes / 4 - Math.min(Math.floor(mm.totalVm / 32), s.sc.userReserveKbytes / 4);
    const room = allowed - s.sc.committed - 1;
    expect(mmap(fm, pid, (room + 1) * 4096)).toBe(-12);
    expect(mmap(fm, pid, room * 4096)).toBeGreaterThan(0);

    const f0 = new FullMachine(testConfig(256, 64));
    const p0 = spawn(f0, 'p');
    const t = framesTotals(f0.frames);
    expect(mmap(f0, p0, (t.totalRamPages + t.totalSwapPages + 1) * 4096)).toBe(-12);
    expect(mmap(f0, p0, (t.totalRamPages + t.totalSwapPages) * 4096)).toBeGreaterThan(0);
  });

  it('RLIMIT_AS and RLIMIT_DATA fail with -ENOMEM and no OOM kill', () => {
    const fm = small();
    const pid = spawn(fm, 'capped', { rlimits: { as: 32 * MiB, data: 8 * MiB } });
    expect(mmap(fm, pid, 64 * MiB, 1)).toBe(-12);
    expect(mmap(fm, pid, 16 * MiB)).toBe(-12);
    const b = sys(fm, pid, { nr: 'brk', addr: 0 });
    expect(sys(fm, pid, { nr: 'brk', addr: b + 16 * MiB })).toBe(b);
    expect(fm.state.sc.oomKills).toBe(0);
  });

  it('faults pages in through frames; RSS follows faults, madvise and munmap, and matches frames anon pages', () => {
    const fm = small();
    const pid = spawn(fm, 'p');
    const anon0 = framesFigures(fm.frames).anonPages;
    const rss0 = fm.state.mms.get(fm.state.tasks.get(pid)!.mmId)!.rssAnon;
    const a = mmap(fm, pid, 16 * MiB);
    expect(touch(fm, pid, a, 16 * MiB)).toEqual({ ok: true });
    const mm = () => fm.state.mms.get(fm.state.tasks.get(pid)!.mmId)!;
    expect(mm().rssAnon - rss0).toBe(4096);
    expect(framesFigures(fm.frames).anonPages - anon0).toBe(4096);
    expect(sys(fm, pid, { nr: 'madvise', addr: a, length: 4 * MiB, advice: 4 })).toBe(0);
    expect(mm().rssAnon - rss0).toBe(3072);
    expect(framesFigures(fm.frames).anonPages - anon0).toBe(3072);
    expect(sys(fm, pid, { nr: 'munmap', addr: a, length: 16 * MiB })).toBe(0);
    expect(mm().rssAnon).toBe(rss0);
    expect(framesFigures(fm.frames).anonPages).toBe(anon0);
    expect(renderStatus(fm.state, pid)).toMatch(/VmHWM:\s+\d+ kB/);
  });

  it('fork is copy-on-write: shared frames until a write', () => {
    const fm = small();
    const pid = spawn(fm, 'p');
    const a = mmap(fm, pid, MiB);
    touch(fm, pid, a, MiB);
    const anon = framesFigures(fm.frames).anonPages;
    const child = fm.handle({ type: 'Fork', pid }).answer as number;
    expect(framesFigures(fm.frames).anonPages).toBe(anon); // nothing copied yet
    const p = pteAt(fm.state, pid, a);
    expect(pteAt(fm.state, child, a)).toEqual(p);
    touch(fm, child, a, 4096 * 4);
    expect(framesFigures(fm.frames).anonPages).toBe(anon + 4);
    const c = pteAt(fm.state, child, a);
    expect(c.kind === 'present' && p.kind === 'present' && c.pfn !== p.pfn).toBe(true);
  });

  it('runs the OOM killer of the oom aggregate when memory runs out, and the allocation then succeeds', () => {
    const fm = new FullMachine(testConfig(256, 0));
    const big = spawn(fm, 'big');
    const small = spawn(fm, 'small');
    const a = mmap(fm, big, 120 * MiB);
    expect(touch(fm, big, a, 120 * MiB)).toEqual({ ok: true });
    const b = mmap(fm, small, 100 * MiB);
    expect(touch(fm, small, b, 100 * MiB)).toEqual({ ok: true });
    expect(fm.state.tasks.has(big)).toBe(false); // 6.18 badness: the one with the most RSS
    expect(fm.state.sc.oomKills).toBe(1);
  });
});

describe('simulated time and the oom_reaper', () => {
  it('a victim stuck in D state is reaped by the oom_reaper after OOM_REAPER_DELAY (AdvanceTime -> oom Tick)', () => {
    const fm = new FullMachine(testConfig(256, 0));
    const big = spawn(fm, 'big');
    const small = spawn(fm, 'small');
    const a = mmap(fm, big, 120 * MiB);
    expect(touch(fm, big, a, 120 * MiB)).toEqual({ ok: true });
    fm.handle({ type: 'SetTaskStuck', pid: big, stuck: true });
    const b = mmap(fm, small, 100 * MiB);
    const r = touch(fm, small, b, 100 * MiB) as { ok: boolean; blocked?: string };
    expect(r).toMatchObject({ ok: false, blocked: 'oom-wait' });
    const mmBig = () => fm.state.mms.get(fm.state.tasks.get(big)!.mmId)!;
    expect(fm.state.tasks.get(big)).toMatchObject({ killPending: true, oomVictim: true });
    expect(mmBig().rssAnon).toBeGreaterThan(20000);
    fm.handle({ type: 'AdvanceTime', ns: 3e9 });
    expect(mmBig().rssAnon).toBe(0);
    expect(mmBig().oomSkip).toBe(true);
    expect(touch(fm, small, b, 100 * MiB)).toEqual({ ok: true });
    expect(fm.state.sc.clockNs).toBe(3e9);
  });
});

describe('the linux-2.6.18 profile', () => {
  it('mode 0 asks frames for its live figures (the old heuristic) and still boots and faults', () => {
    const fm = new FullMachine({ ...testConfig(256, 64), profile: 'linux-2.6.18' });
    const pid = spawn(fm, 'p');
    const a = mmap(fm, pid, 16 * MiB);
    expect(a).toBeGreaterThan(0);
    expect(touch(fm, pid, a, 16 * MiB)).toEqual({ ok: true });
    // free + page cache + free swap is far below 1 GiB here: the heuristic refuses it.
    expect(mmap(fm, pid, GiB)).toBe(-12);
  });
});

describe('cgroup v2 files', () => {
  it('memory.current and memory.events come from frames, the limits from vm', async () => {
    const { memcgFigures } = await import('../frames/index.js');
    const { cgroupMemoryFiles } = await import('./queries.js');
    const fm = new FullMachine(testConfig(256, 0));
    fm.handle({ type: 'CreateCgroup', path: '/box' });
    fm.handle({ type: 'SetCgroupLimit', path: '/box', max: 8 * MiB, oomGroup: true });
    const pid = spawn(fm, 'hog', { cgroup: '/box', prefault: false });
    const a = mmap(fm, pid, 4 * MiB);
    expect(touch(fm, pid, a, 4 * MiB)).toEqual({ ok: true });
    const read = (id: number) => {
      const f = memcgFigures(fm.frames, id);
      return f ? { current: f.current, events: f.events } : null;
    };
    const files = cgroupMemoryFiles(fm.state, '/box', read);
    expect(files['memory.max']).toBe(`${8 * MiB}\n`);
    expect(files['memory.high']).toBe('max\n');
    expect(files['memory.oom.group']).toBe('1\n');
    expect(files['cgroup.procs']).toBe(`${pid}\n`);
    const current = parseInt(files['memory.current'], 10);
    expect(current).toBeGreaterThanOrEqual(4 * MiB); // the pages and their page tables
    expect(current).toBeLessThan(5 * MiB);
    // Past memory.max: the memcg OOM kills the hog; oom's verdict counts oom and oom_kill in frames.
    const b = mmap(fm, pid, 16 * MiB);
    expect(touch(fm, pid, b, 16 * MiB)).toMatchObject({ ok: false, signal: 'SIGKILL' });
    const after = cgroupMemoryFiles(fm.state, '/box', read)['memory.events'];
    // max: charges over memory.max; oom_kill: the group kill kills the victim again, as the kernel does.
    expect(after).toMatch(/^low 0\nhigh 0\nmax [1-9]\d*\noom 1\noom_kill [12]\noom_group_kill 1\nsock_throttled 0\n$/);
  });
});

describe('big requests', () => {
  it('a 5 GiB touch and its munmap go to frames in pieces it accepts (at most 2^20 pages a command)', () => {
    const fm = new FullMachine({ ...testConfig(8 * 1024, 0), sysctl: { ...testConfig(1).sysctl, overcommit_memory: 1 } });
    const pid = spawn(fm, 'big', { prefault: false });
    const len = 5 * GiB;
    const a = mmap(fm, pid, len);
    expect(touch(fm, pid, a, len)).toEqual({ ok: true });
    const mm = () => fm.state.mms.get(fm.state.tasks.get(pid)!.mmId)!;
    expect(mm().rssAnon).toBe(len / 4096);
    expect(sys(fm, pid, { nr: 'munmap', addr: a, length: len })).toBe(0);
    expect(mm().rssAnon).toBe(0);
    expect(framesFigures(fm.frames).anonPages).toBeLessThan(1000);
  }, 60_000);
});

describe('memory.max below memory.current', () => {
  it('reclaims, and when it cannot (no swap) the cgroup OOM killer runs (memory_max_write)', () => {
    const fm = new FullMachine(testConfig(256, 0));
    fm.handle({ type: 'CreateCgroup', path: '/box' });
    const pid = spawn(fm, 'hog', { cgroup: '/box', prefault: false });
    const a = mmap(fm, pid, 16 * MiB);
    expect(touch(fm, pid, a, 16 * MiB)).toEqual({ ok: true });
    fm.handle({ type: 'SetCgroupLimit', path: '/box', max: 4 * MiB });
    expect(fm.state.tasks.has(pid)).toBe(false);
    expect(fm.state.sc.oomKills).toBe(1);
  });
});

describe('determinism with frames and oom', () => {
  it('the same scenario twice gives the same vm events and state hashes', async () => {
    const { stateHash } = await import('./aggregate.js');
    const run = () => {
      const log: string[] = [];
      const fm = new FullMachine(testConfig(256, 32), { onEvents: (svc, evs, hashes) => log.push(`${svc} ${JSON.stringify(evs)} ${hashes.join(',')}`) });
      const a = spawn(fm, 'a');
      const b = spawn(fm, 'b');
      const x = mmap(fm, a, 150 * MiB);
      touch(fm, a, x, 150 * MiB);
      const c = fm.handle({ type: 'Fork', pid: a }).answer as number;
      touch(fm, c, x, 8 * MiB);
      const y = mmap(fm, b, 150 * MiB);
      touch(fm, b, y, 150 * MiB);
      fm.handle({ type: 'AdvanceTime', ns: 2e9 });
      return { log, hash: stateHash(fm.state) };
    };
    const r1 = run();
    const r2 = run();
    expect(r2.hash).toBe(r1.hash);
    expect(r2.log).toEqual(r1.log);
  }, 60_000);
});
