// Running out: the OOM request vm builds (every process in list order with its badness inputs,
// totalpages), and what it does with each verdict. A fake oom stands in for the oom aggregate.
import { describe, expect, it } from 'vitest';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import { isRejection } from '../common/index.js';

const MiB = 1 << 20;
const RAM = 16384; // 64 MiB

function twoHogs(swap = 0) {
  const t = new TestMachine(vm, RAM, swap);
  const a = t.spawn('hog-a');
  const b = t.spawn('hog-b');
  const ma = t.mmap(a, 40 * MiB);
  expect(t.touch(a, [{ addr: ma, length: 40 * MiB }])).toEqual({ ok: true });
  const mb = t.mmap(b, 40 * MiB);
  return { t, a, b, mb };
}

describe('global OOM', () => {
  it('asks oom with every process in task-list order and the inputs of badness; kills the victim, frees its memory and retries', () => {
    const { t, a, b, mb } = twoHogs();
    const rssA = t.mm(a).rssAnon;
    const tablesA = t.mm(a).ptePages + t.mm(a).pmdPages + t.mm(a).pudPages;
    const r = t.touch(b, [{ addr: mb, length: 40 * MiB }]);
    expect(r).toEqual({ ok: true });
    expect(t.oom.requests).toHaveLength(1);
    const req = t.oom.requests[0];
    expect(req.trigger).toMatchObject({ pid: b, constraint: { kind: 'global' }, context: 'page-fault' });
    expect(req.totalPages).toBe(RAM); // RAM + swap (no swap)
    const pids = req.tasks.map((x) => x.pid);
    expect(pids[0]).toBe(1);
    expect(pids.slice(-2)).toEqual([a, b]);
    expect(pids).toEqual([...pids].sort((x, y) => x - y));
    const ta = req.tasks.find((x) => x.pid === a)!;
    expect(ta.mm?.rssAnon).toBe(rssA);
    expect(ta.mm?.pgtablesBytes).toBe(tablesA * 4096);
    expect(ta.mm?.totalVm).toBeGreaterThan(40 * 256);
    expect(req.tasks.find((x) => x.pid === 2)).toMatchObject({ isKthread: true, mm: null, name: 'kthreadd' });
    // The victim is gone, oom was told it exited.
    expect(t.state.tasks.has(a)).toBe(false);
    expect(t.oom.commands.some((c) => c.type === 'VictimExited' && c.pid === a)).toBe(true);
    expect(t.state.sc.oomKills).toBe(1);
  });

  it('answers SIGKILL when the faulting task itself is chosen', () => {
    const { t, b, mb } = twoHogs();
    t.oom.script.push({ kind: 'kill', victim: b, kill: [b], killSeq: 1 });
    expect(t.touch(b, [{ addr: mb, length: 40 * MiB }])).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect(t.state.tasks.has(b)).toBe(false);
  });

  it("'wait' retries once, then leaves the touch blocked; 'none' blocks; 'panic' stops the machine", () => {
    const w = twoHogs();
    w.t.oom.script.push({ kind: 'wait', reason: 'x' }, { kind: 'wait', reason: 'x' });
    expect(w.t.touch(w.b, [{ addr: w.mb, length: 40 * MiB }])).toMatchObject({ ok: false, blocked: 'oom-wait' });
    expect(w.t.oom.requests).toHaveLength(2);
    expect(w.t.state.tasks.get(w.b)?.state).toBe('running');

    const n = twoHogs();
    n.t.oom.script.push({ kind: 'none', reason: 'nothing' });
    expect(n.t.touch(n.b, [{ addr: n.mb, length: 40 * MiB }])).toMatchObject({ ok: false, blocked: 'oom-none' });

    const p = twoHogs();
    p.t.oom.script.push({ kind: 'panic', reason: 'Out of memory: panic_on_oom is enabled' });
    expect(p.t.touch(p.b, [{ addr: p.mb, length: 40 * MiB }])).toMatchObject({ ok: false, blocked: 'panic' });
    expect(p.t.state.sc.panicked).toMatch(/panic_on_oom/);
    let caught: unknown;
    try {
      p.t.spawn('late');
    } catch (e) {
      caught = e;
    }
    expect(isRejection(caught) && caught.code).toBe('vma.MACHINE_PANICKED');
  });

  it('kills every process sharing the victim mm (CLONE_VM)', () => {
    const { t, a, b, mb } = twoHogs();
    const twin = t.handle({ type: 'Fork', pid: a, shareVm: true }).answer as number;
    t.oom.script.push({ kind: 'kill', victim: a, kill: [a], killSeq: 1 });
    expect(t.touch(b, [{ addr: mb, length: 40 * MiB }])).toEqual({ ok: true });
    expect(t.state.tasks.has(twin)).toBe(false);
  });

  it('a stuck victim keeps its memory until the oom_reaper reaps it', () => {
    const { t, a, b, mb } = twoHogs();
    t.handle({ type: 'SetTaskStuck', pid: a, stuck: true });
    t.oom.script.push({ kind: 'kill', victim: a, kill: [a], killSeq: 1 }, { kind: 'wait', reason: 'victim not reaped' });
    expect(t.touch(b, [{ addr: mb, length: 40 * MiB }])).toMatchObject({ ok: false, blocked: 'oom-wait' });
    expect(t.state.tasks.get(a)).toMatchObject({ killPending: true, oomVictim: true, state: 'running' });
    const anon = t.mm(a).rssAnon;
    expect(anon).toBeGreaterThan(10000);
    t.handle({ type: 'ReapOomVictim', pid: a });
    expect(t.mm(a).rssAnon).toBe(0);
    expect(t.mm(a).oomSkip).toBe(true);
    expect(t.oom.commands.some((c) => c.type === 'VictimReaped' && c.pid === a)).toBe(true);
    expect(t.touch(b, [{ addr: mb, length: 40 * MiB }])).toEqual({ ok: true });
    // Unstuck, it acts on the pending SIGKILL.
    t.handle({ type: 'SetTaskStuck', pid: a, stuck: false });
    expect(t.state.tasks.has(a)).toBe(false);
  });
});

describe('memcg OOM', () => {
  it('asks with only the cgroup subtree as candidates and totalpages = memory.max + min(swap.max, swap)', () => {
    const t = new TestMachine(vm, 65536, 4096);
    t.handle({ type: 'CreateCgroup', path: '/box' });
    t.handle({ type: 'CreateCgroup', path: '/box/inner' });
    t.handle({ type: 'SetCgroupLimit', path: '/box', max: 16 * MiB, swapMax: 4 * MiB });
    const out = t.spawn('outside');
    const hog = t.spawn('hog', { cgroup: '/box/inner' });
    const a = t.mmap(hog, 32 * MiB);
    const r = t.touch(hog, [{ addr: a, length: 32 * MiB }]);
    expect(r).toMatchObject({ ok: false, signal: 'SIGKILL' });
    const req = t.oom.requests[0];
    const box = [...t.state.cgroups.values()].find((c) => c.path === '/box')!;
    expect(req.trigger.constraint).toEqual({ kind: 'memcg', memcg: box.id });
    expect(req.tasks.map((x) => x.pid)).toEqual([hog]);
    expect(req.totalPages).toBe(4096 + 1024);
    expect(req.memcgs?.map((c) => c.path)).toEqual(['/box', '/box/inner']);
    expect(t.state.tasks.has(out)).toBe(true);
  });

  it('tasks move between cgroups with their threads; charges stay behind (v2)', () => {
    const t = new TestMachine(vm, 65536);
    t.handle({ type: 'CreateCgroup', path: '/a' });
    const pid = t.spawn('p');
    const tid = t.handle({ type: 'CloneThread', pid }).answer as number;
    t.handle({ type: 'MoveToCgroup', pid, path: '/a' });
    const id = [...t.state.cgroups.values()].find((c) => c.path === '/a')!.id;
    expect(t.state.tasks.get(pid)!.memcg).toBe(id);
    expect(t.state.tasks.get(tid)!.memcg).toBe(id);
    let caught: unknown;
    try {
      t.handle({ type: 'RemoveCgroup', path: '/a' });
    } catch (e) {
      caught = e;
    }
    expect(isRejection(caught) && caught.code).toBe('vma.CGROUP_BUSY');
  });
});
