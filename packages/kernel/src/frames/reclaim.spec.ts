import { describe, expect, it } from 'vitest';
import { framesFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { MiB, machine } from './spec-machines.js';
import type { FramesState } from './state.js';

// A 128 MiB machine: DMA managed 3840, DMA32 present 28672 minus 12288 (kernel) and 512
// (memmap) = 15872 managed; MemTotal 19712 pages. min_free_kbytes = int_sqrt(78848 * 16) = 1123,
// pages_min 280: DMA min 54 low 67 high 80; DMA32 min 225 low 281 high 337; Movable 32.
// lowmem_reserve: DMA keeps 15872 / 256 = 62 pages from allocations that could use DMA32.
function small(swap = 64 * MiB, sysctl = {}): FramesState {
  return bootFrames(machine(128 * MiB, swap, 'linux-6.18', sysctl));
}

const readFile = (s: FramesState, file: number, from: number, n: number): void => {
  for (let i = from; i < from + n; i++) handleFrames(s, { type: 'GetFilePage', file, index: i, memcg: 0 });
};

describe('reclaim', () => {
  it('the small machine has the watermarks worked out by hand', () => {
    const f = framesFigures(small());
    expect(f.totalRam).toBe(19712);
    expect(f.minFreeKbytes).toBe(1123);
    expect(f.zones.slice(0, 2).map((z) => [z.min, z.low, z.high])).toEqual([[54, 67, 80], [225, 281, 337]]);
    expect(f.zones[0].protection).toEqual([0, 62, 62, 62, 62]);
    expect(f.totalReserve).toBe(142 + 337);
  });

  it('an allocation below the watermarks reclaims page cache first, oldest first, without swapping', () => {
    const s = small();
    readFile(s, 1, 0, 10000);
    const free = framesFigures(s).free;
    expect(free).toBe(19712 - 10000);
    // Allocate anon pages until the zones would drop below min: reclaim must then take pages.
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: free }], memcg: 0, allowReclaim: true });
    expect(reply.failed).toBeNull();
    expect(reply.pfns.length).toBe(free);
    // Inactive file is large and not "low" (no active file at all): cache trim mode scans
    // file only, from the tail of the inactive list = the first page read.
    expect(reply.evicted.length).toBeGreaterThan(0);
    reply.evicted.forEach((e, k) => {
      expect(e.page).toEqual({ kind: 'file', owner: 1, index: k });
      expect(e.swapSlot).toBe(-1);
    });
    const f = framesFigures(s);
    expect(f.events.pswpout).toBe(0);
    expect(f.anonPages).toBe(free);
    expect(f.filePages).toBe(10000 - reply.evicted.length);
    // Direct reclaim happened (allocstall_movable: reclaim_idx of GFP_HIGHUSER_MOVABLE) and kswapd ran.
    expect(f.events.allocstall_movable).toBeGreaterThan(0);
    expect(f.events.pageoutrun).toBeGreaterThan(0);
    expect(f.events.pgsteal_file).toBe(reply.evicted.length);
    expect(f.events.pgsteal_kswapd + f.events.pgsteal_direct).toBe(reply.evicted.length);
  });

  it('direct reclaim at priorities 12, 11, 10, 9 takes 2 + 4 + 9 + 19 = 34 file pages', () => {
    // 10000 inactive file pages: 10000 >> 12 = 2, 9998 >> 11 = 4, 9994 >> 10 = 9, 9985 >> 9 = 19;
    // after priority 9 it has 34 >= SWAP_CLUSTER_MAX and stops.
    const s = small(64 * MiB);
    readFile(s, 1, 0, 10000);
    const f0 = framesFigures(s);
    const [dma, dma32] = f0.zones;
    // Pages a user allocation takes before it must reclaim: DMA32 down to min (225), DMA down
    // to min + lowmem_reserve (54 + 62). One more page needs exactly one direct reclaim.
    const before = dma32.free - dma32.min + (dma.free - (dma.min + 62));
    expect(before).toBe(15872 - 10000 - 225 + 3840 - 116);
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: before + 1 }], memcg: 0, allowReclaim: true });
    const f = framesFigures(s);
    expect(f.events.allocstall_movable).toBe(1);
    expect(f.events.pgsteal_direct).toBe(34);
    expect(f.events.pgscan_direct).toBe(34);
    // Direct reclaim's 34 come first; kswapd (woken in the slow path) ran after the allocation.
    expect(reply.evicted.slice(0, 34).map((e) => e.page.index)).toEqual(Array.from({ length: 34 }, (_, k) => k));
    expect(f.events.pgsteal_kswapd).toBe(reply.evicted.length - 34);
    expect(f.events.pswpout).toBe(0);
  });

  it('with no page cache, anon pages go to swap, oldest first, into slots 1, 2, 3...', () => {
    const s = small(64 * MiB);
    const n = 19712;
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: n }], memcg: 0, allowReclaim: true });
    expect(reply.failed).toBeNull();
    expect(reply.evicted.length).toBeGreaterThan(0);
    // DMA32's 15872 pages are 15 order-10 blocks from pfn 16384 and an order-9 block at 31744;
    // __rmqueue_smallest takes the smallest order that has a block, so the first page is 31744.
    // It is the oldest, so it is written first, to slot 1.
    expect(reply.evicted[0]).toEqual({ pfn: 31744, page: { kind: 'anon', owner: 9, index: 0 }, swapSlot: 1 });
    reply.evicted.forEach((e, k) => {
      expect(e.page.index).toBe(k);
      expect(e.swapSlot).toBe(k + 1);
    });
    const f = framesFigures(s);
    expect(f.events.pswpout).toBe(reply.evicted.length);
    expect(f.swapFree).toBe(f.swapTotal - reply.evicted.length);
    expect(f.anonPages).toBe(n - reply.evicted.length);
  });

  it('without swap, anon memory runs out: the allocation fails with a global constraint', () => {
    const s = small(0);
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: 19712 }], memcg: 0, allowReclaim: true });
    expect(reply.failed).toEqual({ kind: 'global' });
    // Every zone stops at its min watermark (plus DMA's reserve for DMA32 allocations).
    const f = framesFigures(s);
    expect(f.zones[1].free).toBe(225);
    expect(f.zones[0].free).toBe(54 + 62);
    expect(reply.pfns.length).toBe(19712 - 225 - 116);
  });

  it('swappiness 0 keeps anon in memory while there is page cache to reclaim', () => {
    const s = small(64 * MiB, { swappiness: 0 });
    readFile(s, 1, 0, 6000);
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: 13000 }], memcg: 0, allowReclaim: true });
    expect(reply.failed).toBeNull();
    expect(reply.evicted.every((e) => e.page.kind === 'file')).toBe(true);
    expect(framesFigures(s).events.pswpout).toBe(0);
  });

  it('kswapd, woken below low, reclaims until a zone is above high (on the next Tick if it did not finish)', () => {
    const s = small(64 * MiB);
    readFile(s, 1, 0, 12000);
    const free = framesFigures(s).free;
    // Take the machine to just below the low watermarks without direct reclaim.
    handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 9, index: 0, count: free - 300 }], memcg: 0, allowReclaim: false });
    const f = framesFigures(s);
    expect(f.events.pageoutrun).toBe(1);
    expect(f.events.pgscan_direct).toBe(0);
    // balanced: DMA32 above high + 0 (its reserve for Movable) or DMA above high + 62.
    expect(f.zones[1].free > 337 || f.zones[0].free > 80 + 62).toBe(true);
    // Nothing pending: a Tick does nothing.
    expect(handleFrames(s, { type: 'Tick', nowNs: 1 }).events).toEqual([]);
  });
});
