import { describe, expect, it } from 'vitest';
import { given } from '../testing/given.js';
import { MODEL_VERSION } from '../common/index.js';
import { frames } from './aggregate.js';
import { framesFigures, memcgFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';

const alloc = (memcg: number, owner: number, index: number, count: number) =>
  ({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner, index, count }], memcg, allowReclaim: true }) as const;

describe('memcg charging', () => {
  it('SetMemcgLimit creates the memcg; charges count in memory.current up the tree', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 10, maxPages: null, parent: 0 });
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 11, maxPages: 100, parent: 10 });
    handleFrames(s, alloc(11, 1, 0, 7));
    expect(memcgFigures(s, 11)?.current).toBe(7);
    expect(memcgFigures(s, 10)?.current).toBe(7);
    expect(memcgFigures(s, 11)?.max).toBe(100);
    expect(memcgFigures(s, 10)?.max).toBe(-1);
    expect(memcgFigures(s, 11)?.parent).toBe(10);
  });

  it('without swap or page cache, the charge over memory.max fails with the memcg constraint', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 10, parent: 0 });
    const { reply } = handleFrames(s, alloc(5, 1, 0, 12));
    expect(reply.pfns.length).toBe(10);
    expect(reply.failed).toEqual({ kind: 'memcg', memcg: 5 });
    const m = memcgFigures(s, 5);
    expect(m?.current).toBe(10);
    // try_charge_memcg counts "max" on the first failure and on each of its 16 retries.
    expect(m?.events.max).toBe(17);
    expect(m?.events.oom).toBe(0);
  });

  it('a limit on a parent constrains its children: the failure names the parent', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 20, maxPages: 5, parent: 0 });
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 21, maxPages: null, parent: 20 });
    const { reply } = handleFrames(s, alloc(21, 1, 0, 6));
    expect(reply.pfns.length).toBe(5);
    expect(reply.failed).toEqual({ kind: 'memcg', memcg: 20 });
    // events are hierarchical: counted in 20 (which hit max), not in 21; events.local likewise.
    expect(memcgFigures(s, 20)?.events.max).toBe(17);
    expect(memcgFigures(s, 21)?.events.max).toBe(0);
  });

  it('with swap, reclaim within the memcg makes room: it swaps out the memcg\'s own oldest pages', () => {
    // 10 inactive anon pages, swappiness 60, SWAP_CLUSTER_MAX 32 wanted: priorities 12..2 scan
    // nothing (10 >> p is at most 2, times 60/200 rounds to 0); priority 1 scans 10 >> 1 = 5,
    // 5 * 60 / 200 = 1 page; priority 0 scans all 9 left (SCAN_EQUAL). So all 10 go, oldest first.
    const s = bootFrames(machine(GiB, 64 * MiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 10, parent: 0 });
    handleFrames(s, alloc(5, 1, 0, 10));
    const { reply } = handleFrames(s, alloc(5, 1, 10, 2));
    expect(reply.failed).toBeNull();
    expect(reply.pfns.length).toBe(2);
    expect(reply.evicted.map((e) => [e.page.index, e.swapSlot])).toEqual(Array.from({ length: 10 }, (_, k) => [k, k + 1]));
    const m = memcgFigures(s, 5);
    expect(m?.current).toBe(2);
    expect(m?.events.max).toBe(1);
    expect(framesFigures(s).events.pswpout).toBe(10);
  });

  it('lowering memory.max below memory.current reclaims down to it', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: null, parent: 0 });
    handleFrames(s, alloc(5, 1, 0, 100));
    const { reply } = handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 50, parent: 0 });
    expect(reply.failed).toBeNull();
    expect(memcgFigures(s, 5)?.current).toBeLessThanOrEqual(50);
    expect(reply.evicted.length).toBe(100 - (memcgFigures(s, 5)?.current ?? 0));
  });

  it('memory.events oom and oom_kill count when told; oom_kill also counts in vmstat', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 3, maxPages: 10, parent: 0 });
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 4, maxPages: null, parent: 3 });
    handleFrames(s, { type: 'MemcgEvent', memcg: 4, kind: 'oom' });
    handleFrames(s, { type: 'MemcgEvent', memcg: 4, kind: 'oom_kill' });
    expect(memcgFigures(s, 4)?.events).toMatchObject({ oom: 1, oom_kill: 1 });
    expect(memcgFigures(s, 3)?.events).toMatchObject({ oom: 1, oom_kill: 1 });
    expect(memcgFigures(s, 3)?.eventsLocal).toMatchObject({ oom: 0, oom_kill: 0 });
    expect(framesFigures(s).events.oom_kill).toBe(1);
  });

  it('rejects: the root has no limit; an unknown parent; an unknown memcg for events', () => {
    const boot = { type: 'MachineBooted', config: machine(GiB), modelVersion: MODEL_VERSION } as const;
    given(frames, [boot]).when({ type: 'SetMemcgLimit', memcg: 0, maxPages: 5, parent: 0 }).thenRejects('frames.BAD_COMMAND');
    given(frames, [boot]).when({ type: 'SetMemcgLimit', memcg: 5, maxPages: 5, parent: 99 }).thenRejects('frames.NO_SUCH_MEMCG');
    given(frames, [boot]).when({ type: 'MemcgEvent', memcg: 99, kind: 'oom' }).thenRejects('frames.NO_SUCH_MEMCG');
  });
});
