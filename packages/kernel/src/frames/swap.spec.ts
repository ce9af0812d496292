import { describe, expect, it } from 'vitest';
import { framesFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';
import type { FramesState } from './state.js';

const alloc = (memcg: number, index: number, count: number) =>
  ({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index, count }], memcg, allowReclaim: true }) as const;

/** A memcg of 4 pages whose first 4 pages (indexes 0..3) were swapped out to slots 1..4 to fit index 4. */
function swappedOut(): FramesState {
  const s = bootFrames(machine(GiB, 64 * MiB));
  handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 4, parent: 0 });
  handleFrames(s, alloc(5, 0, 4));
  const { reply } = handleFrames(s, alloc(5, 4, 1));
  // 4 pages: priorities 12..1 scan nothing (4 >> p times 60/200 is 0), priority 0 scans all 4.
  expect(reply.evicted.map((e) => [e.page.index, e.swapSlot])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4]]);
  return s;
}

describe('swap', () => {
  it('SwapTotal is the device minus its header page', () => {
    const f = framesFigures(bootFrames(machine(GiB, 64 * MiB)));
    expect(f.swapTotal).toBe(16384 - 1);
    expect(f.swapFree).toBe(16383);
  });

  it('a read fault brings the page back into the swap cache (major, pswpin); the slot stays', () => {
    const s = swappedOut();
    const { reply } = handleFrames(s, { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 5 });
    expect(reply.majorFaults).toBe(1);
    expect(reply.pfns.length).toBe(1);
    const f = framesFigures(s);
    expect(f.events.pswpin).toBe(1);
    expect(f.swapCache).toBe(1);
    expect(f.filePages).toBe(1); // swap-cache pages count in NR_FILE_PAGES
    expect(f.swapFree).toBe(16383 - 4); // slot 1 is still held by the swap cache
    // A second mm faulting the same entry (after fork) finds it in the swap cache: minor.
    handleFrames(s, { type: 'DupSwapSlots', slots: [2] });
    const again = handleFrames(s, { type: 'SwapIn', slot: 2, page: { kind: 'anon', owner: 1, index: 1 }, memcg: 5 });
    const twice = handleFrames(s, { type: 'SwapIn', slot: 2, page: { kind: 'anon', owner: 2, index: 1 }, memcg: 5 });
    expect(twice.reply.pfns).toEqual(again.reply.pfns);
    expect(twice.reply.majorFaults).toBe(0);
  });

  it('reclaiming a clean swap-cache page drops it without writing; the PTE gets the same slot back', () => {
    const s = swappedOut();
    handleFrames(s, { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 5 });
    const pswpout = framesFigures(s).events.pswpout;
    // memory.current is 2 (index 4, index 0): 3 more pages push it over 4 and reclaim all 4 on
    // the list, oldest first: index 4 (new slot 5), index 0 (clean: slot 1), 5 (slot 6), 6 (slot 7).
    const { reply } = handleFrames(s, alloc(5, 5, 3));
    expect(reply.evicted.map((e) => [e.page.index, e.swapSlot])).toEqual([[4, 5], [0, 1], [5, 6], [6, 7]]);
    expect(framesFigures(s).events.pswpout - pswpout).toBe(3);
    expect(framesFigures(s).swapCache).toBe(0);
  });

  it('a write fault frees the slot (should_try_to_free_swap)', () => {
    const s = swappedOut();
    handleFrames(s, { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 5, write: true });
    const f = framesFigures(s);
    expect(f.swapCache).toBe(0);
    expect(f.swapFree).toBe(16383 - 3);
  });

  it('FreeSwapSlots drops references; freeing the swap-cache page then frees its slot', () => {
    const s = swappedOut();
    handleFrames(s, { type: 'FreeSwapSlots', slots: [2, 3] });
    expect(framesFigures(s).swapFree).toBe(16383 - 2);
    const { reply } = handleFrames(s, { type: 'SwapIn', slot: 4, page: { kind: 'anon', owner: 1, index: 3 }, memcg: 5 });
    expect(framesFigures(s).swapFree).toBe(16383 - 2);
    handleFrames(s, { type: 'FreeUserPages', pfns: reply.pfns });
    expect(framesFigures(s).swapFree).toBe(16383 - 1);
    expect(framesFigures(s).swapCache).toBe(0);
  });

  it('rejects a swap-in of a slot with no entry', () => {
    const s = swappedOut();
    handleFrames(s, { type: 'FreeSwapSlots', slots: [2] });
    expect(() => handleFrames(s, { type: 'SwapIn', slot: 2, page: { kind: 'anon', owner: 1, index: 1 }, memcg: 5 })).toThrow(/no swap entry/);
  });
});
