import { describe, expect, it } from 'vitest';
import { given } from '../testing/given.js';
import { MODEL_VERSION } from '../common/index.js';
import { frames } from './aggregate.js';
import { framesFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';
import type { FramesEvent } from './types.js';

const booted = (cfg = machine(GiB)): FramesEvent => ({ type: 'MachineBooted', config: cfg, modelVersion: MODEL_VERSION });
const anon = (owner: number, index: number) => ({ kind: 'anon' as const, owner, index });

describe('frames: Boot', () => {
  it('records the config and the model version', () => {
    given(frames, []).when({ type: 'Boot', config: machine(GiB) }).then([booted()]);
  });
  it('rejects a second boot', () => {
    given(frames, [booted()]).when({ type: 'Boot', config: machine(GiB) }).thenRejects('frames.ALREADY_BOOTED');
  });
  it('rejects RAM that is not whole pages', () => {
    given(frames, []).when({ type: 'Boot', config: machine(GiB + 100) }).thenRejects('frames.BAD_CONFIG');
  });
  it('rejects commands before boot', () => {
    given(frames, []).when({ type: 'FreeUserPages', pfns: [1] }).thenRejects('frames.NOT_BOOTED');
  });
});

describe('frames: AllocUserPages', () => {
  it('takes the first pages of DMA32 on a 1 GiB machine (no Normal zone): a fresh order-10 block split', () => {
    // DMA32's free list after boot holds order-10 blocks in ascending order (freed to the tail);
    // the first is at pfn 4096 + 12288 (after the kernel's 48 MiB). Splitting it hands out
    // 16384, then 16385 (the order-0 half), then 16386 from the order-1 half.
    given(frames, [booted()])
      .when({ type: 'AllocUserPages', pages: [anon(7, 100), anon(7, 101), anon(7, 102)], memcg: 0, allowReclaim: true })
      .then([{
        type: 'UserPagesAllocated', memcg: 0, allowReclaim: true, mlocked: false,
        pages: [{ kind: 'anon', owner: 7, index: 100, count: 3 }],
        outcome: { pfns: [{ pfn: 16384, count: 3 }], evicted: [], failed: null, majorFaults: 0 },
      }]);
  });

  it('takes Normal first when there is one (4 GiB: Normal starts at pfn 1048576)', () => {
    given(frames, [booted(machine(4 * GiB))])
      .when({ type: 'AllocUserPages', runs: [{ kind: 'file', owner: 3, index: 0, count: 2 }], memcg: 0, allowReclaim: true })
      .then([{
        type: 'UserPagesAllocated', memcg: 0, allowReclaim: true, mlocked: false,
        pages: [{ kind: 'file', owner: 3, index: 0, count: 2 }],
        outcome: { pfns: [{ pfn: 1048576, count: 2 }], evicted: [], failed: null, majorFaults: 0 },
      }]);
  });

  it('rejects a page the page cache already has', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'shmem', owner: 3, index: 5, count: 1 }], memcg: 0, allowReclaim: true });
    expect(() => frames.decide({ type: 'AllocUserPages', runs: [{ kind: 'shmem', owner: 3, index: 5, count: 1 }], memcg: 0, allowReclaim: true }, s))
      .toThrow(/already in the page cache/);
  });

  it('rejects an index beyond 2^35', () => {
    given(frames, [booted()])
      .when({ type: 'AllocUserPages', pages: [anon(1, 2 ** 35)], memcg: 0, allowReclaim: true })
      .thenRejects('frames.BAD_COMMAND');
  });
});

describe('frames: the buddy allocator', () => {
  it('splitting a fresh order-10 block leaves one free block at each order 0..9 after the first page', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'AllocUserPages', pages: [anon(1, 0)], memcg: 0, allowReclaim: true });
    // 236 order-10 blocks in DMA32 (241664 / 1024); one was split: 1+2+...+512 = 1023 pages remain.
    expect(framesFigures(s).zones[1].nrFree).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 235]);
  });

  it('freeing merges the buddies back into the order-10 block', () => {
    const s = bootFrames(machine(GiB));
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 3 }], memcg: 0, allowReclaim: true });
    expect(framesFigures(s).zones[1].nrFree).toEqual([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 235]);
    // Free the middle page first: its buddy 16384 is in use, so it waits at order 0.
    handleFrames(s, { type: 'FreeUserPages', pfns: [16385] });
    expect(framesFigures(s).zones[1].nrFree).toEqual([2, 0, 1, 1, 1, 1, 1, 1, 1, 1, 235]);
    handleFrames(s, { type: 'FreeUserPages', pfns: [16384, 16386] });
    expect(framesFigures(s).zones[1].nrFree).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 236]);
    expect(reply.pfns).toEqual([16384, 16385, 16386]);
    expect(framesFigures(s).free).toBe(3840 + 241664);
  });

  it('DMA after boot: orders 8, 9 and three 10s, as a real machine shows in /proc/buddyinfo', () => {
    // Managed DMA is pfn 256..4095: a block of 256 at 256, 512 at 512, then 1024s.
    const s = bootFrames(machine(GiB));
    expect(framesFigures(s).zones[0].nrFree).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3]);
  });
});

describe('frames: zone fallback and watermarks', () => {
  it('falls back from Normal to DMA32 when Normal would go below its low watermark', () => {
    // 3 GiB + 128 MiB: Normal has 32768 pages, 12800 of them memmap, so 19968 free.
    const s = bootFrames(machine(3 * GiB + 128 * MiB));
    const normal = framesFigures(s).zones[2];
    expect(normal.free).toBe(19968);
    // A user allocation may take Normal pages while free > low + lowmem_reserve[Movable] (= low: Movable is empty).
    const n = normal.free - normal.low;
    const first = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: n }], memcg: 0, allowReclaim: true });
    expect(first.reply.pfns.every((p) => p >= 1048576)).toBe(true);
    const next = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: n, count: 1 }], memcg: 0, allowReclaim: true });
    expect(next.reply.pfns).toEqual([16384]);
    expect(framesFigures(s).events.pgalloc_dma32).toBe(1);
  });
});
