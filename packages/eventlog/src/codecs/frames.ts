// The frames aggregate's event codec: kernel/src/frames/types.ts FramesEvent <->
// proto/mmsim/v1/frames_events.proto FramesEvent. One case per event type, each field converted
// exactly (scalars.ts); fromProto(toProto(e)) deep-equals e.
import type { AllocConstraint, PageKind, PageOwner } from '@mmsim/kernel';
import { FRAMES_SYSCTLS } from '@mmsim/kernel/frames';
import type {
  AllocOutcome,
  EvictOutcome,
  EvictedRun,
  FileKind,
  FramesEvent,
  KernelPageKind,
  MemcgEventKind,
  OwnerRun,
  PfnRun,
  SlotRun,
  SwapRun,
} from '@mmsim/kernel/frames';
import { unreachable } from '@mmsim/kernel';
import * as pb from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { machineConfigFromProto, machineConfigToProto } from './machine-config.js';
import { EventCodecError, enumMap, need, num, oneOf, oneOfStrings, s64, u32, u64 } from './scalars.js';

type Msg = pb.FramesEvent;

// ---------------------------------------------------------------------------------------------
// Enums and records shared with the vma and oom codecs

export const pageKind = enumMap<PageKind, pb.PageKind>('page kind', {
  anon: pb.PageKind.PAGE_KIND_ANON,
  file: pb.PageKind.PAGE_KIND_FILE,
  shmem: pb.PageKind.PAGE_KIND_SHMEM,
});

const fileKind = enumMap<FileKind, pb.FileKind>('file kind', {
  file: pb.FileKind.FILE_KIND_FILE,
  shmem: pb.FileKind.FILE_KIND_SHMEM,
  bdev: pb.FileKind.FILE_KIND_BDEV,
});

const kernelPageKind = enumMap<KernelPageKind, pb.KernelPageKind>('kernel page kind', {
  pagetable: pb.KernelPageKind.KERNEL_PAGE_KIND_PAGETABLE,
  slab_reclaimable: pb.KernelPageKind.KERNEL_PAGE_KIND_SLAB_RECLAIMABLE,
  slab_unreclaimable: pb.KernelPageKind.KERNEL_PAGE_KIND_SLAB_UNRECLAIMABLE,
  kernel_stack: pb.KernelPageKind.KERNEL_PAGE_KIND_KERNEL_STACK,
  other: pb.KernelPageKind.KERNEL_PAGE_KIND_OTHER,
});

export const memcgEventKind = enumMap<MemcgEventKind, pb.MemcgEventKind>('memory.events counter', {
  low: pb.MemcgEventKind.MEMCG_EVENT_KIND_LOW,
  high: pb.MemcgEventKind.MEMCG_EVENT_KIND_HIGH,
  max: pb.MemcgEventKind.MEMCG_EVENT_KIND_MAX,
  oom: pb.MemcgEventKind.MEMCG_EVENT_KIND_OOM,
  oom_kill: pb.MemcgEventKind.MEMCG_EVENT_KIND_OOM_KILL,
  oom_group_kill: pb.MemcgEventKind.MEMCG_EVENT_KIND_OOM_GROUP_KILL,
});

export function allocConstraintToProto(c: AllocConstraint): pb.AllocConstraint {
  switch (c.kind) {
    case 'global':
      return { kind: pb.AllocConstraintKind.ALLOC_CONSTRAINT_KIND_GLOBAL, memcg: 0 };
    case 'memcg':
      return { kind: pb.AllocConstraintKind.ALLOC_CONSTRAINT_KIND_MEMCG, memcg: u32(c.memcg, 'constraint.memcg') };
    default:
      return unreachable(c, 'alloc constraint');
  }
}

export function allocConstraintFromProto(m: pb.AllocConstraint): AllocConstraint {
  switch (m.kind) {
    case pb.AllocConstraintKind.ALLOC_CONSTRAINT_KIND_GLOBAL:
      return { kind: 'global' };
    case pb.AllocConstraintKind.ALLOC_CONSTRAINT_KIND_MEMCG:
      return { kind: 'memcg', memcg: m.memcg };
    default:
      throw new EventCodecError(`alloc constraint kind ${m.kind} is not a known kind`);
  }
}

const failedToProto = (c: AllocConstraint | null): pb.AllocConstraint | undefined => (c === null ? undefined : allocConstraintToProto(c));
const failedFromProto = (m: pb.AllocConstraint | undefined): AllocConstraint | null => (m === undefined ? null : allocConstraintFromProto(m));

export const evictedRunToProto = (r: EvictedRun): pb.EvictedRun => ({
  pfn: u64(r.pfn, 'evicted.pfn'),
  count: u64(r.count, 'evicted.count'),
  kind: pageKind.to(r.kind),
  owner: u32(r.owner, 'evicted.owner'),
  index: u64(r.index, 'evicted.index'),
  slot: s64(r.slot, 'evicted.slot'),
});

export const evictedRunFromProto = (m: pb.EvictedRun): EvictedRun => ({
  pfn: num(m.pfn, 'evicted.pfn'),
  count: num(m.count, 'evicted.count'),
  kind: pageKind.from(m.kind),
  owner: m.owner,
  index: num(m.index, 'evicted.index'),
  slot: num(m.slot, 'evicted.slot'),
});

const pfnRunToProto = (r: PfnRun): pb.PfnRun => ({ pfn: u64(r.pfn, 'pfn'), count: u64(r.count, 'pfn run count') });
const pfnRunFromProto = (m: pb.PfnRun): PfnRun => ({ pfn: num(m.pfn, 'pfn'), count: num(m.count, 'pfn run count') });

const slotRunToProto = (r: SlotRun): pb.SlotRun => ({ slot: u64(r.slot, 'slot'), count: u64(r.count, 'slot run count') });
const slotRunFromProto = (m: pb.SlotRun): SlotRun => ({ slot: num(m.slot, 'slot'), count: num(m.count, 'slot run count') });

const swapRunToProto = (r: SwapRun): pb.SwapRun => ({ slot: u64(r.slot, 'slot'), index: u64(r.index, 'index'), count: u64(r.count, 'swap run count') });
const swapRunFromProto = (m: pb.SwapRun): SwapRun => ({ slot: num(m.slot, 'slot'), index: num(m.index, 'index'), count: num(m.count, 'swap run count') });

const ownerRunToProto = (r: OwnerRun): pb.OwnerRun => ({
  kind: pageKind.to(r.kind),
  owner: u32(r.owner, 'owner'),
  index: u64(r.index, 'index'),
  count: u64(r.count, 'owner run count'),
});
const ownerRunFromProto = (m: pb.OwnerRun): OwnerRun => ({
  kind: pageKind.from(m.kind),
  owner: m.owner,
  index: num(m.index, 'index'),
  count: num(m.count, 'owner run count'),
});

const pageOwnerToProto = (p: PageOwner): pb.PageOwner => ({ kind: pageKind.to(p.kind), owner: u32(p.owner, 'owner'), index: u64(p.index, 'index') });
const pageOwnerFromProto = (m: pb.PageOwner): PageOwner => ({ kind: pageKind.from(m.kind), owner: m.owner, index: num(m.index, 'index') });

const allocOutcomeToProto = (o: AllocOutcome): pb.AllocOutcome => ({
  pfns: o.pfns.map(pfnRunToProto),
  evicted: o.evicted.map(evictedRunToProto),
  failed: failedToProto(o.failed),
  majorFaults: u64(o.majorFaults, 'majorFaults'),
});
const allocOutcomeFromProto = (m: pb.AllocOutcome | undefined): AllocOutcome => {
  const o = need(m, 'outcome');
  return {
    pfns: o.pfns.map(pfnRunFromProto),
    evicted: o.evicted.map(evictedRunFromProto),
    failed: failedFromProto(o.failed),
    majorFaults: num(o.majorFaults, 'majorFaults'),
  };
};

const evictOutcomeToProto = (o: EvictOutcome): pb.EvictOutcome => ({ evicted: o.evicted.map(evictedRunToProto) });
const evictOutcomeFromProto = (m: pb.EvictOutcome | undefined): EvictOutcome => ({ evicted: need(m, 'outcome').evicted.map(evictedRunFromProto) });

// ---------------------------------------------------------------------------------------------
// Events

type Ev<T extends FramesEvent['type']> = Extract<FramesEvent, { type: T }>;

function toProto(e: FramesEvent): Msg {
  switch (e.type) {
    case 'MachineBooted':
      return { event: { $case: 'machineBooted', value: { config: machineConfigToProto(e.config), modelVersion: u32(e.modelVersion, 'modelVersion') } } };
    case 'UserPagesAllocated':
      return {
        event: {
          $case: 'userPagesAllocated',
          value: {
            memcg: u32(e.memcg, 'memcg'),
            allowReclaim: e.allowReclaim,
            mlocked: e.mlocked,
            pages: e.pages.map(ownerRunToProto),
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'UserPagesFreed':
      return { event: { $case: 'userPagesFreed', value: { pfns: e.pfns.map(pfnRunToProto) } } };
    case 'SwappedIn':
      return {
        event: {
          $case: 'swappedIn',
          value: {
            slot: u64(e.slot, 'slot'),
            page: pageOwnerToProto(e.page),
            memcg: u32(e.memcg, 'memcg'),
            write: e.write,
            mlocked: e.mlocked,
            allowReclaim: e.allowReclaim,
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'SwapSlotsFreed':
      return { event: { $case: 'swapSlotsFreed', value: { slots: e.slots.map(slotRunToProto) } } };
    case 'SwapSlotsDuplicated':
      return { event: { $case: 'swapSlotsDuplicated', value: { slots: e.slots.map(slotRunToProto) } } };
    case 'FilePageFaulted':
      return {
        event: {
          $case: 'filePageFaulted',
          value: {
            file: u32(e.file, 'file'),
            index: u64(e.index, 'index'),
            memcg: u32(e.memcg, 'memcg'),
            kind: fileKind.to(e.kind),
            mlocked: e.mlocked,
            allowReclaim: e.allowReclaim,
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'FileTruncated':
      return { event: { $case: 'fileTruncated', value: { file: u32(e.file, 'file'), kind: fileKind.to(e.kind), outcome: evictOutcomeToProto(e.outcome) } } };
    case 'KernelPagesAllocated':
      return {
        event: {
          $case: 'kernelPagesAllocated',
          value: {
            kind: kernelPageKind.to(e.kind),
            pages: u64(e.pages, 'pages'),
            memcg: u32(e.memcg, 'memcg'),
            allowReclaim: e.allowReclaim,
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'KernelPagesFreed':
      return {
        event: {
          $case: 'kernelPagesFreed',
          value: {
            kind: kernelPageKind.to(e.kind),
            pages: u64(e.pages, 'pages'),
            memcg: u32(e.memcg, 'memcg'),
            outcome: { pfns: e.outcome.pfns.map(pfnRunToProto) },
          },
        },
      };
    case 'PagesAccessed':
      return { event: { $case: 'pagesAccessed', value: { pfns: e.pfns.map(pfnRunToProto) } } };
    case 'PagesMlocked':
      return { event: { $case: 'pagesMlocked', value: { pfns: e.pfns.map(pfnRunToProto), lock: e.lock } } };
    case 'KswapdRan':
      return { event: { $case: 'kswapdRan', value: { nowNs: u64(e.nowNs, 'nowNs'), outcome: evictOutcomeToProto(e.outcome) } } };
    case 'CachesDropped':
      return {
        event: {
          $case: 'cachesDropped',
          value: {
            mode: oneOf(e.mode, [1, 2, 3], 'drop_caches mode'),
            outcome: { evicted: e.outcome.evicted.map(evictedRunToProto), slabPages: u64(e.outcome.slabPages, 'slabPages') },
          },
        },
      };
    case 'SysctlSet':
      return { event: { $case: 'sysctlSet', value: { name: e.name, value: s64(e.value, 'sysctl value') } } };
    case 'MemcgLimitSet':
      return {
        event: {
          $case: 'memcgLimitSet',
          value: {
            memcg: u32(e.memcg, 'memcg'),
            maxPages: s64(e.maxPages, 'maxPages'),
            parent: u32(e.parent, 'parent'),
            outcome: { evicted: e.outcome.evicted.map(evictedRunToProto), failed: failedToProto(e.outcome.failed) },
          },
        },
      };
    case 'MemcgEventCounted':
      return { event: { $case: 'memcgEventCounted', value: { memcg: u32(e.memcg, 'memcg'), kind: memcgEventKind.to(e.kind) } } };
    case 'FilePagesFaulted':
      return {
        event: {
          $case: 'filePagesFaulted',
          value: {
            file: u32(e.file, 'file'),
            index: u64(e.index, 'index'),
            count: u64(e.count, 'count'),
            memcg: u32(e.memcg, 'memcg'),
            kind: fileKind.to(e.kind),
            mlocked: e.mlocked,
            allowReclaim: e.allowReclaim,
            read: e.read,
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'PagesSwappedIn':
      return {
        event: {
          $case: 'pagesSwappedIn',
          value: {
            owner: u32(e.owner, 'owner'),
            entries: e.entries.map(swapRunToProto),
            memcg: u32(e.memcg, 'memcg'),
            write: e.write,
            mlocked: e.mlocked,
            allowReclaim: e.allowReclaim,
            outcome: allocOutcomeToProto(e.outcome),
          },
        },
      };
    case 'MemcgHighSet':
      return { event: { $case: 'memcgHighSet', value: { memcg: u32(e.memcg, 'memcg'), highPages: s64(e.highPages, 'highPages'), outcome: evictOutcomeToProto(e.outcome) } } };
    case 'PagesLazyFreeMarked':
      return { event: { $case: 'pagesLazyFreeMarked', value: { pfns: e.pfns.map(pfnRunToProto), lazy: e.lazy } } };
    case 'MemcgSwapMaxSet':
      return { event: { $case: 'memcgSwapMaxSet', value: { memcg: u32(e.memcg, 'memcg'), swapMaxPages: s64(e.swapMaxPages, 'swapMaxPages') } } };
    default:
      return unreachable(e, 'frames event');
  }
}

function fromProto(m: Msg): FramesEvent {
  const ev = need(m.event, 'FramesEvent.event');
  switch (ev.$case) {
    case 'machineBooted': {
      const v = ev.value;
      return { type: 'MachineBooted', config: machineConfigFromProto(need(v.config, 'config')), modelVersion: v.modelVersion } satisfies Ev<'MachineBooted'>;
    }
    case 'userPagesAllocated': {
      const v = ev.value;
      return {
        type: 'UserPagesAllocated',
        memcg: v.memcg,
        allowReclaim: v.allowReclaim,
        mlocked: v.mlocked,
        pages: v.pages.map(ownerRunFromProto),
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'UserPagesAllocated'>;
    }
    case 'userPagesFreed':
      return { type: 'UserPagesFreed', pfns: ev.value.pfns.map(pfnRunFromProto) } satisfies Ev<'UserPagesFreed'>;
    case 'swappedIn': {
      const v = ev.value;
      return {
        type: 'SwappedIn',
        slot: num(v.slot, 'slot'),
        page: pageOwnerFromProto(need(v.page, 'page')),
        memcg: v.memcg,
        write: v.write,
        mlocked: v.mlocked,
        allowReclaim: v.allowReclaim,
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'SwappedIn'>;
    }
    case 'swapSlotsFreed':
      return { type: 'SwapSlotsFreed', slots: ev.value.slots.map(slotRunFromProto) } satisfies Ev<'SwapSlotsFreed'>;
    case 'swapSlotsDuplicated':
      return { type: 'SwapSlotsDuplicated', slots: ev.value.slots.map(slotRunFromProto) } satisfies Ev<'SwapSlotsDuplicated'>;
    case 'filePageFaulted': {
      const v = ev.value;
      return {
        type: 'FilePageFaulted',
        file: v.file,
        index: num(v.index, 'index'),
        memcg: v.memcg,
        kind: fileKind.from(v.kind),
        mlocked: v.mlocked,
        allowReclaim: v.allowReclaim,
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'FilePageFaulted'>;
    }
    case 'fileTruncated': {
      const v = ev.value;
      return { type: 'FileTruncated', file: v.file, kind: fileKind.from(v.kind), outcome: evictOutcomeFromProto(v.outcome) } satisfies Ev<'FileTruncated'>;
    }
    case 'kernelPagesAllocated': {
      const v = ev.value;
      return {
        type: 'KernelPagesAllocated',
        kind: kernelPageKind.from(v.kind),
        pages: num(v.pages, 'pages'),
        memcg: v.memcg,
        allowReclaim: v.allowReclaim,
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'KernelPagesAllocated'>;
    }
    case 'kernelPagesFreed': {
      const v = ev.value;
      return {
        type: 'KernelPagesFreed',
        kind: kernelPageKind.from(v.kind),
        pages: num(v.pages, 'pages'),
        memcg: v.memcg,
        outcome: { pfns: need(v.outcome, 'outcome').pfns.map(pfnRunFromProto) },
      } satisfies Ev<'KernelPagesFreed'>;
    }
    case 'pagesAccessed':
      return { type: 'PagesAccessed', pfns: ev.value.pfns.map(pfnRunFromProto) } satisfies Ev<'PagesAccessed'>;
    case 'pagesMlocked':
      return { type: 'PagesMlocked', pfns: ev.value.pfns.map(pfnRunFromProto), lock: ev.value.lock } satisfies Ev<'PagesMlocked'>;
    case 'kswapdRan':
      return { type: 'KswapdRan', nowNs: num(ev.value.nowNs, 'nowNs'), outcome: evictOutcomeFromProto(ev.value.outcome) } satisfies Ev<'KswapdRan'>;
    case 'cachesDropped': {
      const v = ev.value;
      const o = need(v.outcome, 'outcome');
      return {
        type: 'CachesDropped',
        mode: oneOf(v.mode, [1, 2, 3] as const, 'drop_caches mode'),
        outcome: { evicted: o.evicted.map(evictedRunFromProto), slabPages: num(o.slabPages, 'slabPages') },
      } satisfies Ev<'CachesDropped'>;
    }
    case 'sysctlSet':
      return { type: 'SysctlSet', name: oneOfStrings(ev.value.name, FRAMES_SYSCTLS, 'frames sysctl'), value: num(ev.value.value, 'sysctl value') } satisfies Ev<'SysctlSet'>;
    case 'memcgLimitSet': {
      const v = ev.value;
      const o = need(v.outcome, 'outcome');
      return {
        type: 'MemcgLimitSet',
        memcg: v.memcg,
        maxPages: num(v.maxPages, 'maxPages'),
        parent: v.parent,
        outcome: { evicted: o.evicted.map(evictedRunFromProto), failed: failedFromProto(o.failed) },
      } satisfies Ev<'MemcgLimitSet'>;
    }
    case 'memcgEventCounted':
      return { type: 'MemcgEventCounted', memcg: ev.value.memcg, kind: memcgEventKind.from(ev.value.kind) } satisfies Ev<'MemcgEventCounted'>;
    case 'filePagesFaulted': {
      const v = ev.value;
      return {
        type: 'FilePagesFaulted',
        file: v.file,
        index: num(v.index, 'index'),
        count: num(v.count, 'count'),
        memcg: v.memcg,
        kind: fileKind.from(v.kind),
        mlocked: v.mlocked,
        allowReclaim: v.allowReclaim,
        read: v.read,
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'FilePagesFaulted'>;
    }
    case 'pagesSwappedIn': {
      const v = ev.value;
      return {
        type: 'PagesSwappedIn',
        owner: v.owner,
        entries: v.entries.map(swapRunFromProto),
        memcg: v.memcg,
        write: v.write,
        mlocked: v.mlocked,
        allowReclaim: v.allowReclaim,
        outcome: allocOutcomeFromProto(v.outcome),
      } satisfies Ev<'PagesSwappedIn'>;
    }
    case 'memcgHighSet':
      return { type: 'MemcgHighSet', memcg: ev.value.memcg, highPages: num(ev.value.highPages, 'highPages'), outcome: evictOutcomeFromProto(ev.value.outcome) } satisfies Ev<'MemcgHighSet'>;
    case 'pagesLazyFreeMarked':
      return { type: 'PagesLazyFreeMarked', pfns: ev.value.pfns.map(pfnRunFromProto), lazy: ev.value.lazy } satisfies Ev<'PagesLazyFreeMarked'>;
    case 'memcgSwapMaxSet':
      return { type: 'MemcgSwapMaxSet', memcg: ev.value.memcg, swapMaxPages: num(ev.value.swapMaxPages, 'swapMaxPages') } satisfies Ev<'MemcgSwapMaxSet'>;
    default:
      return unreachable(ev, 'frames event message');
  }
}

export const framesCodec = defineEventCodec<'frames', FramesEvent>({
  service: 'frames',
  toProto,
  fromProto,
  eventType: (e) => e.type,
});
