import { DEFAULT_SYSCTLS, type MachineConfig } from '@mmsim/kernel';
import type { FramesEvent } from '@mmsim/kernel/frames';
import * as pb from '@mmsim/proto';
import { describe, expect, it } from 'vitest';
import { expectEnvelopeRoundTrip, expectRoundTrip } from './codec-checks.testing.js';
import { framesCodec } from './frames.js';
import { recordRealEvents } from './real-events.testing.js';
import { EventCodecError } from './scalars.js';

const config: MachineConfig = {
  tenant: 'acme',
  machine: 'box',
  profile: 'linux-6.18',
  ramBytes: 256 * 2 ** 30,
  swapBytes: 0,
  cpus: 8,
  seed: 2 ** 53 - 1,
  sysctl: { ...DEFAULT_SYSCTLS, min_free_kbytes: 67584 },
};

const noOutcome = { pfns: [], evicted: [], failed: null, majorFaults: 0 } as const;

/**
 * At least one event of every type. The mapped type makes a new FramesEvent type a compile
 * error here (npx tsc) until it has a sample.
 */
const samples: { [K in FramesEvent['type']]: Extract<FramesEvent, { type: K }>[] } = {
  MachineBooted: [
    { type: 'MachineBooted', config, modelVersion: 1 },
    { type: 'MachineBooted', config: { ...config, profile: 'linux-2.6.18', swapBytes: 2 ** 40 }, modelVersion: 7 },
  ],
  UserPagesAllocated: [
    {
      type: 'UserPagesAllocated',
      memcg: 2 ** 32 - 1,
      allowReclaim: true,
      mlocked: false,
      // An anon page's index is a virtual page number: up to 2^35.
      pages: [{ kind: 'anon', owner: 3, index: 2 ** 35 - 2, count: 2 }, { kind: 'shmem', owner: 9, index: 0, count: 1 }],
      outcome: {
        pfns: [{ pfn: 2 ** 40, count: 3 }],
        evicted: [
          { pfn: 17, count: 2, kind: 'anon', owner: 4, index: 100, slot: 1 },
          { pfn: 30, count: 1, kind: 'file', owner: 5, index: 0, slot: -1 },
        ],
        failed: { kind: 'memcg', memcg: 0 },
        majorFaults: 0,
      },
    },
    { type: 'UserPagesAllocated', memcg: 0, allowReclaim: false, mlocked: true, pages: [], outcome: { ...noOutcome, failed: { kind: 'global' } } },
    { type: 'UserPagesAllocated', memcg: 1, allowReclaim: true, mlocked: false, pages: [{ kind: 'file', owner: 1, index: 1, count: 1 }], outcome: noOutcome },
  ],
  FilePagesFaulted: [
    {
      type: 'FilePagesFaulted', file: 3, index: 2 ** 33, count: 7, memcg: 1, kind: 'file', mlocked: false, allowReclaim: true, read: true,
      outcome: { pfns: [{ pfn: 9, count: 2 }, { pfn: 40, count: 5 }], evicted: [{ pfn: 17, count: 1, kind: 'anon', owner: 4, index: 100, slot: 1 }], failed: null, majorFaults: 5 },
    },
    { type: 'FilePagesFaulted', file: 4, index: 0, count: 1, memcg: 0, kind: 'shmem', mlocked: true, allowReclaim: false, read: false, outcome: { ...noOutcome, failed: { kind: 'global' } } },
  ],
  PagesSwappedIn: [
    {
      type: 'PagesSwappedIn', owner: 12, entries: [{ slot: 262143, index: 34359738000, count: 1 }, { slot: 5, index: 7, count: 3 }], memcg: 4, write: true,
      mlocked: false, allowReclaim: true, outcome: { pfns: [{ pfn: 2 ** 40, count: 4 }], evicted: [], failed: null, majorFaults: 3 },
    },
    { type: 'PagesSwappedIn', owner: 0, entries: [{ slot: 1, index: 0, count: 1 }], memcg: 0, write: false, mlocked: true, allowReclaim: false, outcome: { ...noOutcome, failed: { kind: 'memcg', memcg: 0 } } },
  ],
  MemcgHighSet: [
    { type: 'MemcgHighSet', memcg: 3, highPages: -1, outcome: { evicted: [] } },
    { type: 'MemcgHighSet', memcg: 2 ** 32 - 1, highPages: 2 ** 40, outcome: { evicted: [{ pfn: 30, count: 2, kind: 'file', owner: 5, index: 0, slot: -1 }] } },
  ],
  MemcgSwapMaxSet: [
    { type: 'MemcgSwapMaxSet', memcg: 3, swapMaxPages: -1 },
    { type: 'MemcgSwapMaxSet', memcg: 2 ** 32 - 1, swapMaxPages: 0 },
    { type: 'MemcgSwapMaxSet', memcg: 7, swapMaxPages: 2 ** 40 },
  ],
  PagesLazyFreeMarked: [
    { type: 'PagesLazyFreeMarked', pfns: [{ pfn: 5, count: 2 }], lazy: true },
    { type: 'PagesLazyFreeMarked', pfns: [], lazy: false },
  ],
  UserPagesFreed: [{ type: 'UserPagesFreed', pfns: [{ pfn: 5, count: 2 }] }, { type: 'UserPagesFreed', pfns: [] }],
  SwappedIn: [
    {
      type: 'SwappedIn',
      slot: 262143,
      page: { kind: 'anon', owner: 12, index: 34359738000 },
      memcg: 4,
      write: true,
      mlocked: false,
      allowReclaim: true,
      outcome: { pfns: [{ pfn: 99, count: 1 }], evicted: [], failed: null, majorFaults: 1 },
    },
  ],
  SwapSlotsFreed: [{ type: 'SwapSlotsFreed', slots: [{ slot: 1, count: 10 }, { slot: 20, count: 1 }] }],
  SwapSlotsDuplicated: [{ type: 'SwapSlotsDuplicated', slots: [{ slot: 7, count: 1 }] }],
  FilePageFaulted: [
    { type: 'FilePageFaulted', file: 3, index: 0, memcg: 0, kind: 'file', mlocked: false, allowReclaim: true, outcome: { ...noOutcome, majorFaults: 1 } },
    { type: 'FilePageFaulted', file: 4, index: 2 ** 33, memcg: 2, kind: 'shmem', mlocked: true, allowReclaim: false, outcome: noOutcome },
    { type: 'FilePageFaulted', file: 5, index: 1, memcg: 0, kind: 'bdev', mlocked: false, allowReclaim: true, outcome: noOutcome },
  ],
  FileTruncated: [{ type: 'FileTruncated', file: 8, kind: 'shmem', outcome: { evicted: [{ pfn: 1, count: 1, kind: 'shmem', owner: 8, index: 0, slot: -1 }] } }],
  KernelPagesAllocated: [
    { type: 'KernelPagesAllocated', kind: 'pagetable', pages: 1, memcg: 0, allowReclaim: true, outcome: { ...noOutcome, pfns: [{ pfn: 4096, count: 1 }] } },
    { type: 'KernelPagesAllocated', kind: 'slab_reclaimable', pages: 2, memcg: 1, allowReclaim: false, outcome: noOutcome },
    { type: 'KernelPagesAllocated', kind: 'slab_unreclaimable', pages: 3, memcg: 0, allowReclaim: true, outcome: noOutcome },
    { type: 'KernelPagesAllocated', kind: 'kernel_stack', pages: 4, memcg: 0, allowReclaim: true, outcome: noOutcome },
    { type: 'KernelPagesAllocated', kind: 'other', pages: 5, memcg: 0, allowReclaim: true, outcome: noOutcome },
  ],
  KernelPagesFreed: [{ type: 'KernelPagesFreed', kind: 'pagetable', pages: 1, memcg: 3, outcome: { pfns: [{ pfn: 4096, count: 1 }] } }],
  PagesAccessed: [{ type: 'PagesAccessed', pfns: [{ pfn: 0, count: 1 }] }],
  PagesMlocked: [{ type: 'PagesMlocked', pfns: [{ pfn: 10, count: 4 }], lock: true }, { type: 'PagesMlocked', pfns: [], lock: false }],
  KswapdRan: [{ type: 'KswapdRan', nowNs: 2 ** 53 - 1, outcome: { evicted: [] } }],
  CachesDropped: [
    { type: 'CachesDropped', mode: 1, outcome: { evicted: [{ pfn: 3, count: 2, kind: 'file', owner: 1, index: 4, slot: -1 }], slabPages: 0 } },
    { type: 'CachesDropped', mode: 2, outcome: { evicted: [], slabPages: 12 } },
    { type: 'CachesDropped', mode: 3, outcome: { evicted: [], slabPages: 0 } },
  ],
  SysctlSet: [
    { type: 'SysctlSet', name: 'swappiness', value: 200 },
    { type: 'SysctlSet', name: 'min_free_kbytes', value: 2 ** 31 - 1 },
    { type: 'SysctlSet', name: 'watermark_scale_factor', value: 1 },
  ],
  MemcgLimitSet: [
    { type: 'MemcgLimitSet', memcg: 2, maxPages: -1, parent: 0, outcome: { evicted: [], failed: null } },
    { type: 'MemcgLimitSet', memcg: 3, maxPages: 1024, parent: 2, outcome: { evicted: [{ pfn: 8, count: 1, kind: 'anon', owner: 2, index: 5, slot: 3 }], failed: { kind: 'memcg', memcg: 3 } } },
  ],
  MemcgEventCounted: (['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill'] as const).map((kind) => ({ type: 'MemcgEventCounted', memcg: 1, kind })),
};

const all = Object.values(samples).flat() as FramesEvent[];

describe('frames codec', () => {
  it.each(all.map((e) => [e.type, e] as const))('round-trips %s exactly', (_t, e) => {
    expectRoundTrip(framesCodec, pb.FramesEvent, e);
  });

  it('writes the bytes protobuf prescribes (hand-encoded)', () => {
    // FramesEvent.user_pages_freed (3, LEN) { pfns (1, LEN) { pfn (1) = 5, count (2) = 2 } }
    expect([...pb.FramesEvent.encode(framesCodec.toProto({ type: 'UserPagesFreed', pfns: [{ pfn: 5, count: 2 }] })).finish()]).toEqual([
      0x1a, 0x06, 0x0a, 0x04, 0x08, 0x05, 0x10, 0x02,
    ]);
    // An evicted run's slot -1 (dropped) is a sint64: zigzag 1, one byte (an int64 would take ten).
    const r = framesCodec.toProto({ type: 'FileTruncated', file: 1, kind: 'file', outcome: { evicted: [{ pfn: 0, count: 1, kind: 'file', owner: 1, index: 0, slot: -1 }] } });
    // file_truncated (8, LEN) { file = 1, kind = FILE (1), outcome (3, LEN) { evicted (1, LEN) { count = 1, kind = FILE (2), owner = 1, slot (6) = zigzag(-1) = 1 } } }
    expect([...pb.FramesEvent.encode(r).finish()]).toEqual([0x42, 0x10, 0x08, 0x01, 0x10, 0x01, 0x1a, 0x0a, 0x0a, 0x08, 0x10, 0x01, 0x18, 0x02, 0x20, 0x01, 0x30, 0x01]);
  });

  it('keeps a failed allocation apart from a granted one (null vs global vs memcg 0)', () => {
    const failed = samples.UserPagesAllocated.map((e) => framesCodec.fromProto(framesCodec.toProto(e)))
      .map((e) => (e.type === 'UserPagesAllocated' ? e.outcome.failed : undefined));
    expect(failed).toStrictEqual([{ kind: 'memcg', memcg: 0 }, { kind: 'global' }, null]);
  });

  it('refuses numbers the wire cannot carry exactly', () => {
    const at = (pfn: number): FramesEvent => ({ type: 'UserPagesFreed', pfns: [{ pfn, count: 1 }] });
    expect(() => framesCodec.toProto(at(-1))).toThrow(EventCodecError);
    expect(() => framesCodec.toProto(at(1.5))).toThrow(/pfn: 1.5 is not a non-negative safe integer/);
    expect(() => framesCodec.toProto(at(2 ** 53))).toThrow(EventCodecError);
    expect(() => framesCodec.toProto({ type: 'MemcgEventCounted', memcg: 2 ** 32, kind: 'oom' })).toThrow(/memcg: 4294967296/);
    const tooBig = pb.FramesEvent.decode(pb.FramesEvent.encode({ event: { $case: 'userPagesFreed', value: { pfns: [{ pfn: 2n ** 53n, count: 1n }] } } }).finish());
    expect(() => framesCodec.fromProto(tooBig)).toThrow(/pfn: 9007199254740992 is not a safe integer/);
    expect(() => framesCodec.fromProto({ event: { $case: 'memcgEventCounted', value: { memcg: 1, kind: pb.MemcgEventKind.MEMCG_EVENT_KIND_UNSPECIFIED } } })).toThrow(EventCodecError);
    expect(() => framesCodec.fromProto({ event: undefined })).toThrow(/FramesEvent.event is missing/);
  });

  describe('real events (frames + vma + oom in one machine, linux-6.18)', () => {
    const real = recordRealEvents('linux-6.18').frames;

    it('has events of most types, each of a type the samples cover', () => {
      const types = new Set(real.map((e) => e.type));
      for (const t of types) expect(samples).toHaveProperty(t);
      expect(types).toContain('UserPagesAllocated');
      expect(types).toContain('FilePagesFaulted');
      expect(types.size).toBeGreaterThanOrEqual(10);
    });

    it('round-trips every event exactly', () => {
      for (const e of real) expect(framesCodec.fromProto(framesCodec.toProto(e))).toStrictEqual(e);
    });

    it('round-trips through EnvelopeBatch bytes, the same bytes every time', () => {
      expectEnvelopeRoundTrip(framesCodec, real);
    });
  });
});
