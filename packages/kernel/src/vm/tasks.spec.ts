// Processes: boot, pids, exit/kill/wait, threads, /proc/<pid>/oom_score_adj and oom_adj writes.
import { describe, expect, it } from 'vitest';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import { isRejection } from '../common/index.js';
import { renderOomAdj, renderOomScoreAdj, renderStatus } from '../procfs/pid/index.js';

const machine = () => new TestMachine(vm, 65536);
const rejects = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isRejection(e)) return e.code;
    throw e;
  }
  return 'no rejection';
};

describe('boot', () => {
  it('has init (pid 1, with an mm) and the kernel threads (kthreadd pid 2 and its children, no mm)', () => {
    const t = machine();
    const s = t.state;
    const init = s.tasks.get(1)!;
    expect(init).toMatchObject({ name: 'init', ppid: 0, uid: 0, isKthread: false });
    expect(init.mmId).toBeGreaterThan(0);
    expect(s.tasks.get(2)).toMatchObject({ name: 'kthreadd', ppid: 0, isKthread: true, mmId: 0 });
    const names = [...s.tasks.values()].filter((x) => x.isKthread).map((x) => x.name);
    expect(names).toContain('kswapd0');
    expect(names).toContain('oom_reaper');
    expect([...s.tasks.values()].filter((x) => x.isKthread && x.pid !== 2).every((x) => x.ppid === 2)).toBe(true);
    // pid 1 first in the task list, then the kernel threads in pid order
    expect(s.order.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('gives user processes pids in order from 1000, never reusing a live one', () => {
    const t = machine();
    expect([t.spawn(), t.spawn(), t.spawn()]).toEqual([1000, 1001, 1002]);
    t.handle({ type: 'Exit', pid: 1001 });
    expect(t.spawn()).toBe(1003);
  });
});

describe('exit, kill, wait', () => {
  it('a child of init is reaped at once; a child of another process stays a zombie until waited for', () => {
    const t = machine();
    const p = t.spawn('parent');
    const c = t.spawn('child', { parent: p });
    expect(t.state.tasks.get(c)!.ppid).toBe(p);
    t.handle({ type: 'Exit', pid: c, code: 3 });
    expect(t.state.tasks.get(c)).toMatchObject({ state: 'zombie', exitCode: 3, mmId: 0 });
    expect(renderStatus(t.state, c)).toMatch(/State:\tZ \(zombie\)/);
    t.handle({ type: 'Wait', pid: c });
    expect(t.state.tasks.has(c)).toBe(false);
    t.handle({ type: 'Exit', pid: p });
    expect(t.state.tasks.has(p)).toBe(false);
  });

  it('orphans go to init; init reaps the zombies it inherits', () => {
    const t = machine();
    const p = t.spawn('parent');
    const live = t.spawn('live', { parent: p });
    const dead = t.spawn('dead', { parent: p });
    t.handle({ type: 'Exit', pid: dead });
    t.handle({ type: 'Kill', pid: p });
    expect(t.state.tasks.get(live)!.ppid).toBe(1);
    expect(t.state.tasks.has(dead)).toBe(false);
  });

  it('threads share the mm and die with the thread group', () => {
    const t = machine();
    const p = t.spawn('mt');
    const t1 = t.handle({ type: 'CloneThread', pid: p }).answer as number;
    const t2 = t.handle({ type: 'CloneThread', pid: p }).answer as number;
    expect(t.state.tasks.get(t1)).toMatchObject({ tgid: p, mmId: t.state.tasks.get(p)!.mmId });
    expect(t.mm(p).users).toBe(3);
    expect(renderStatus(t.state, p)).toMatch(/\nThreads:\t3\n/);
    t.handle({ type: 'Kill', pid: t2 });
    expect([p, t1, t2].some((x) => t.state.tasks.has(x))).toBe(false);
  });

  it('refuses to kill init or a kernel thread, and to touch for a kernel thread', () => {
    const t = machine();
    expect(rejects(() => t.handle({ type: 'Kill', pid: 1 }))).toBe('vma.UNKILLABLE');
    expect(rejects(() => t.handle({ type: 'Kill', pid: 2 }))).toBe('vma.UNKILLABLE');
    expect(rejects(() => t.handle({ type: 'Touch', pid: 2, writes: [], reads: [] }))).toBe('vma.NO_MM');
    expect(rejects(() => t.handle({ type: 'Kill', pid: 4242 }))).toBe('vma.NO_SUCH_PID');
  });
});

describe('oom_score_adj and the legacy oom_adj (fs/proc/base.c)', () => {
  it('reads oom_adj as oom_score_adj * 17 / 1000 (1000 reads 15); writes oom_adj * 1000 / 17 (15 writes 1000)', () => {
    const t = machine();
    const p = t.spawn();
    const set = (value: number, legacy = false, writer?: number) => t.handle({ type: 'SetOomScoreAdj', pid: p, value, legacy, writer }).answer;
    expect(set(15, true)).toBe(0);
    expect(renderOomScoreAdj(t.state, p)).toBe('1000\n');
    expect(renderOomAdj(t.state, p)).toBe('15\n');
    expect(set(500)).toBe(0);
    expect(renderOomAdj(t.state, p)).toBe('8\n'); // 8500 / 1000
    expect(set(-17, true)).toBe(0); // root may lower it
    expect(renderOomScoreAdj(t.state, p)).toBe('-1000\n');
    expect(set(8, true)).toBe(0);
    expect(renderOomScoreAdj(t.state, p)).toBe('470\n'); // 8000 / 17 truncated
    expect(renderOomAdj(t.state, p)).toBe('7\n'); // and it reads back as 7
  });

  it('rejects values out of range with -EINVAL', () => {
    const t = machine();
    const p = t.spawn();
    expect(t.handle({ type: 'SetOomScoreAdj', pid: p, value: 1001 }).answer).toBe(-22);
    expect(t.handle({ type: 'SetOomScoreAdj', pid: p, value: 16, legacy: true }).answer).toBe(-22);
    expect(t.handle({ type: 'SetOomScoreAdj', pid: p, value: -18, legacy: true }).answer).toBe(-22);
  });

  it('lowering needs CAP_SYS_RESOURCE: below oom_score_adj_min (oom_score_adj), below the current value (oom_adj)', () => {
    const t = machine();
    const user = t.spawn('user', { uid: 1000 });
    const root = t.spawn('root', { uid: 0 });
    const set = (value: number, legacy = false, writer = user) => t.handle({ type: 'SetOomScoreAdj', pid: user, value, legacy, writer }).answer;
    expect(set(500)).toBe(0);
    expect(set(100)).toBe(0); // not below oom_score_adj_min (0)
    expect(set(-1)).toBe(-13);
    expect(set(0, true)).toBe(-13); // legacy: 0 < 100, the current value
    expect(set(-500, false, root)).toBe(0); // root sets it, and oom_score_adj_min with it
    expect(set(-400)).toBe(0);
    expect(set(-500)).toBe(0);
    expect(set(-501)).toBe(-13);
  });

  it('applies to the whole thread group and to processes sharing the mm', () => {
    const t = machine();
    const p = t.spawn();
    const th = t.handle({ type: 'CloneThread', pid: p }).answer as number;
    const twin = t.handle({ type: 'Fork', pid: p, shareVm: true }).answer as number;
    t.handle({ type: 'SetOomScoreAdj', pid: p, value: 300 });
    expect([p, th, twin].map((x) => t.state.tasks.get(x)!.oomScoreAdj)).toEqual([300, 300, 300]);
  });

  it('is inherited by children', () => {
    const t = machine();
    const p = t.spawn('p', { oomScoreAdj: 250 });
    const c = t.handle({ type: 'Fork', pid: p }).answer as number;
    expect(t.state.tasks.get(c)!.oomScoreAdj).toBe(250);
  });
});
