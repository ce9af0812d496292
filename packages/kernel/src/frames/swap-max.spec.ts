// memory.swap.max (cgroup v2): swap slots are charged to the memcg of the page written out
// (memory.swap.current, hierarchical), a swap-out over the limit fails (memory.swap.events max
// and fail), reclaim does not scan the anon lists of a memcg with no swap left
// (can_reclaim_anon_pages), and freeing a slot uncharges it. Every expectation is worked out
// from those rules and the reclaim arithmetic in reclaim.ts (swappiness 60, SWAP_CLUSTER_MAX 32).
import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../common/index.js';
import { given } from '../testing/given.js';
import { frames } from './aggregate.js';
import { framesFigures, memcgFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';
import type { FramesState } from './state.js';

const anon = (memcg: number, owner: number, index: number, count: number) =>
  ({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner, index, count }], memcg, allowReclaim: true }) as const;

function memcg(s: FramesState, id: number, maxPages: number | null, swapMaxPages: number | null, parent = 0): void {
  handleFrames(s, { type: 'SetMemcgLimit', memcg: id, maxPages, parent });
  handleFrames(s, { type: 'SetMemcgSwapMax', memcg: id, swapMaxPages });
}

const swap = (s: FramesState, id: number) => {
  const f = memcgFigures(s, id);
  return { current: f?.swapCurrent, max: f?.swapEvents.max, fail: f?.swapEvents.fail };
};

describe('memory.swap.max', () => {
  it('swap.max = 3: three anon pages go to swap, then only file pages are reclaimed, then the charge fails', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 5, 10, 3);
    expect(memcgFigures(s, 5)?.swapMax).toBe(3);
    handleFrames(s, anon(5, 1, 0, 10));

    // The 11th page: memcg reclaim of 32 pages. Priorities 12..2 scan nothing (10 >> 2 = 2,
    // * 60/200 rounds to 0); priority 1 scans 5 * 60/200 = 1 page (index 0: swapped, swap.current
    // 1); priority 0 scans the 9 left (SCAN_EQUAL): indexes 1 and 2 are swapped (3 = swap.max),
    // the 7 others fail the swap charge (max and fail, 7 each) and stay resident.
    const a = handleFrames(s, anon(5, 1, 10, 1));
    expect(a.reply.failed).toBeNull();
    expect(a.reply.evicted.map((e) => [e.page.index, e.swapSlot])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(swap(s, 5)).toEqual({ current: 3, max: 7, fail: 7 });
    expect(memcgFigures(s, 5)?.current).toBe(8);
    expect(framesFigures(s).events.pswpout).toBe(3);

    // Two file pages fill the memcg again (10). The next anon page reclaims with no swap left
    // (swap.max - swap.current = 0): file only, 1 page at priority 1 and 1 at priority 0.
    handleFrames(s, { type: 'GetFilePages', file: 100, index: 0, count: 2, memcg: 5 });
    const b = handleFrames(s, anon(5, 1, 11, 1));
    expect(b.reply.failed).toBeNull();
    expect(b.reply.evicted.map((e) => [e.page.kind, e.page.index, e.swapSlot])).toEqual([['file', 0, -1], ['file', 1, -1]]);
    expect(swap(s, 5)).toEqual({ current: 3, max: 7, fail: 7 });
    expect(framesFigures(s).events.pswpout).toBe(3);

    // 9 anon pages resident: one more fits (10); the next finds nothing reclaimable (no file,
    // no swap): the charge fails, an OOM inside memcg 5. Anon was not even scanned: no swap event.
    const c = handleFrames(s, anon(5, 1, 12, 2));
    expect(c.reply.pfns).toHaveLength(1);
    expect(c.reply.evicted).toEqual([]);
    expect(c.reply.failed).toEqual({ kind: 'memcg', memcg: 5 });
    expect(memcgFigures(s, 5)?.current).toBe(10);
    expect(swap(s, 5)).toEqual({ current: 3, max: 7, fail: 7 });
    // memory.events max: one per charge that went over (the 11th and 12th pages), 17 for the failed one.
    expect(memcgFigures(s, 5)?.events.max).toBe(1 + 1 + 17);
  });

  it('swap.max = 0: the memcg never swaps, while one without a swap limit swaps as usual', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 6, 10, 0);
    memcg(s, 7, 10, null);
    handleFrames(s, anon(6, 1, 0, 10));
    handleFrames(s, anon(7, 2, 0, 10));

    const six = handleFrames(s, anon(6, 1, 10, 1));
    expect(six.reply.pfns).toEqual([]);
    expect(six.reply.evicted).toEqual([]);
    expect(six.reply.failed).toEqual({ kind: 'memcg', memcg: 6 });
    expect(swap(s, 6)).toEqual({ current: 0, max: 0, fail: 0 });

    // Memcg 7: priority 1 swaps 1 page, priority 0 the 9 others (slots 1..10).
    const seven = handleFrames(s, anon(7, 2, 10, 1));
    expect(seven.reply.failed).toBeNull();
    expect(seven.reply.evicted.map((e) => [e.page.owner, e.page.index, e.swapSlot])).toEqual(Array.from({ length: 10 }, (_, k) => [2, k, k + 1]));
    expect(swap(s, 7)).toEqual({ current: 10, max: 0, fail: 0 });
    expect(framesFigures(s).events.pswpout).toBe(10);
    expect(framesFigures(s).swapFree).toBe(framesFigures(s).swapTotal - 10);
  });

  it('swap.max = 0 holds in global reclaim too: kswapd and direct reclaim swap other memcgs\' pages, never its', () => {
    // 128 MiB of RAM (about 32000 pages): 8000 anon pages in each memcg, then 20000 in the root
    // push the machine into global reclaim. get_scan_count runs per lruvec, with the lruvec's
    // memcg: memcg 6 has no swap it may take, so its anon lists are not scanned.
    const s = bootFrames(machine(128 * MiB, 64 * MiB));
    memcg(s, 6, null, 0);
    memcg(s, 7, null, null);
    handleFrames(s, anon(6, 1, 0, 8000));
    handleFrames(s, anon(7, 2, 0, 8000));
    const r = handleFrames(s, anon(0, 3, 0, 20000));
    expect(r.reply.evicted.filter((e) => e.page.owner === 1)).toEqual([]);
    expect(memcgFigures(s, 6)?.current).toBe(8000);
    expect(swap(s, 6)).toEqual({ current: 0, max: 0, fail: 0 });
    expect(swap(s, 7).current).toBeGreaterThan(0);
    // Every page of memcg 7 that went to swap is charged to it.
    expect(r.reply.evicted.filter((e) => e.page.owner === 2)).toHaveLength(swap(s, 7).current ?? -1);
  });

  it('a parent\'s swap.max caps its children together', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 20, null, 4);
    memcg(s, 21, 6, null, 20);
    memcg(s, 22, 6, null, 20);
    handleFrames(s, anon(21, 1, 0, 6));
    handleFrames(s, anon(22, 2, 0, 6));

    // 21: priorities 12..1 scan nothing (6 >> 1 = 3, * 60/200 = 0); priority 0 scans all 6:
    // 4 fit under the parent's swap.max, 2 fail (counted in 21 and, hierarchically, 20).
    const a = handleFrames(s, anon(21, 1, 6, 1));
    expect(a.reply.failed).toBeNull();
    expect(a.reply.evicted.map((e) => e.page.index)).toEqual([0, 1, 2, 3]);
    expect(swap(s, 21)).toEqual({ current: 4, max: 2, fail: 2 });
    expect(swap(s, 20)).toEqual({ current: 4, max: 2, fail: 2 });

    // 22 has no limit of its own, but its parent has no swap left: file only, nothing: OOM in 22.
    const b = handleFrames(s, anon(22, 2, 6, 1));
    expect(b.reply.evicted).toEqual([]);
    expect(b.reply.failed).toEqual({ kind: 'memcg', memcg: 22 });
    expect(swap(s, 22)).toEqual({ current: 0, max: 0, fail: 0 });
    expect(swap(s, 20)).toEqual({ current: 4, max: 2, fail: 2 });
  });

  it('freeing a slot uncharges it: a write swap-in, zapped swap entries, a swap-cache page freed', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 30, null, null, 0);
    memcg(s, 31, 10, null, 30);
    handleFrames(s, anon(31, 1, 0, 10));
    handleFrames(s, anon(31, 1, 10, 1)); // indexes 0..9 to slots 1..10
    expect(swap(s, 31).current).toBe(10);
    expect(swap(s, 30).current).toBe(10);

    // A write fault: the slot's last reference goes and the swap cache lets it go.
    handleFrames(s, { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 31, write: true });
    expect(swap(s, 31).current).toBe(9);
    // A read fault keeps the slot in the swap cache (swap is not full): still charged (cgroup v2
    // uncharges swap when the slot is freed, not at swap-in).
    const r = handleFrames(s, { type: 'SwapIn', slot: 2, page: { kind: 'anon', owner: 1, index: 1 }, memcg: 31 });
    expect(swap(s, 31).current).toBe(9);
    // munmap / exit: the swap entries of indexes 2..4 are zapped.
    handleFrames(s, { type: 'FreeSwapSlots', slots: [3, 4, 5] });
    expect(swap(s, 31).current).toBe(6);
    // The page read back in is unmapped too: freeing it takes it out of the swap cache, freeing slot 2.
    handleFrames(s, { type: 'FreeUserPages', pfns: r.reply.pfns });
    expect(swap(s, 31).current).toBe(5);
    expect(swap(s, 30).current).toBe(5);
    expect(framesFigures(s).swapFree).toBe(framesFigures(s).swapTotal - 5);
  });

  it('mem_cgroup_swap_full(): at half of swap.max a read swap-in frees the slot', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 40, 10, 12);
    handleFrames(s, anon(40, 1, 0, 10));
    handleFrames(s, anon(40, 1, 10, 1)); // all 10 fit under 12
    expect(swap(s, 40)).toEqual({ current: 10, max: 0, fail: 0 });
    // 10 * 2 >= 12: the memcg's swap is "full", so the swap cache gives the slot up at once.
    handleFrames(s, { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 40 });
    expect(swap(s, 40).current).toBe(9);
  });

  it('lowering swap.max below swap.current keeps what is charged; new swap-outs fail', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    memcg(s, 50, 10, null);
    handleFrames(s, anon(50, 1, 0, 10));
    handleFrames(s, anon(50, 1, 10, 1));
    handleFrames(s, { type: 'SetMemcgSwapMax', memcg: 50, swapMaxPages: 2 });
    expect(swap(s, 50).current).toBe(10);
    expect(memcgFigures(s, 50)?.swapMax).toBe(2);
  });

  it('rejects: the root has no swap.max; an unknown memcg; a negative value', () => {
    const boot = { type: 'MachineBooted', config: machine(GiB, 64 * MiB), modelVersion: MODEL_VERSION } as const;
    given(frames, [boot]).when({ type: 'SetMemcgSwapMax', memcg: 0, swapMaxPages: 5 }).thenRejects('frames.BAD_COMMAND');
    given(frames, [boot]).when({ type: 'SetMemcgSwapMax', memcg: 9, swapMaxPages: 5 }).thenRejects('frames.NO_SUCH_MEMCG');
    given(frames, [boot, { type: 'MemcgLimitSet', memcg: 9, maxPages: -1, parent: 0, outcome: { evicted: [], failed: null } }])
      .when({ type: 'SetMemcgSwapMax', memcg: 9, swapMaxPages: -5 })
      .thenRejects('frames.BAD_COMMAND');
  });
});
