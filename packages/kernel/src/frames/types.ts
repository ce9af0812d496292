// The frames aggregate's commands and events. Commands are what vma (or a scenario) asks;
// events record what happened, compactly (runs), with the inputs needed to apply them again.
import type { AllocConstraint, PageOwner } from '../contracts/frames.js';
import type { MachineConfig } from '../machine/config.js';
import type { KernelPageKind } from './constants.js';
import type { MemcgEventKind } from './counters.js';
import type { EvictedRun, OwnerRun, PfnRun } from './runs.js';

export type { EvictedRun, OwnerRun, PfnRun } from './runs.js';
export type { KernelPageKind } from './constants.js';
export type { MemcgEventKind } from './counters.js';

/** Page-cache pages: a regular file, tmpfs/shmem, or a block device (counted as Buffers). */
export type FileKind = 'file' | 'shmem' | 'bdev';

export const FRAMES_SYSCTLS = ['min_free_kbytes', 'watermark_scale_factor', 'swappiness'] as const;
export type FramesSysctl = (typeof FRAMES_SYSCTLS)[number];

export interface SlotRun {
  readonly slot: number;
  readonly count: number;
}

/** Swap entries slot .. slot + count - 1 holding anon pages index .. index + count - 1 of one family. */
export interface SwapRun {
  readonly slot: number;
  readonly index: number;
  readonly count: number;
}

export type FramesCommand =
  | { readonly type: 'Boot'; readonly config: MachineConfig }
  /**
   * Fault in user pages (GFP_HIGHUSER_MOVABLE), charged to `memcg`. `pages` (one PageOwner per
   * page) or `runs` (the same, compressed); file/shmem pages are entered in the page cache.
   * allowReclaim false: no direct reclaim (GFP_NOWAIT). mlocked: VM_LOCKED (unevictable list).
   */
  | {
    readonly type: 'AllocUserPages';
    readonly pages?: readonly PageOwner[];
    readonly runs?: readonly OwnerRun[];
    readonly memcg: number;
    readonly allowReclaim: boolean;
    readonly mlocked?: boolean;
  }
  /** The last mapping of these pages went away (anon, or shmem/file pages being removed from the cache). */
  | { readonly type: 'FreeUserPages'; readonly pfns: readonly number[] }
  /** do_swap_page(): the page of swap slot `slot` for `page`. write: a write fault (frees the slot if possible). */
  | {
    readonly type: 'SwapIn';
    readonly slot: number;
    readonly page: PageOwner;
    readonly memcg: number;
    readonly write?: boolean;
    readonly mlocked?: boolean;
    readonly allowReclaim?: boolean;
  }
  /** Swap entries dropped (zap of a swap PTE): one reference per listed slot. */
  | { readonly type: 'FreeSwapSlots'; readonly slots: readonly number[] }
  /** Swap entries copied (fork, or further PTEs of an evicted shared page): one more reference per slot. */
  | { readonly type: 'DupSwapSlots'; readonly slots: readonly number[] }
  /** A page-cache page: found (minor), read from disk (major), a new shmem page, or a shmem swap-in (major). */
  | {
    readonly type: 'GetFilePage';
    readonly file: number;
    readonly index: number;
    readonly memcg: number;
    readonly kind?: FileKind;
    readonly mlocked?: boolean;
    readonly allowReclaim?: boolean;
  }
  /**
   * Pages index .. index + count - 1 of a file, in order (GetFilePage for a run): page faults over
   * a file mapping, or read(2) (read: true; a page read from disk is not a page fault).
   */
  | {
    readonly type: 'GetFilePages';
    readonly file: number;
    readonly index: number;
    readonly count: number;
    readonly memcg: number;
    readonly kind?: FileKind;
    readonly mlocked?: boolean;
    readonly allowReclaim?: boolean;
    readonly read?: boolean;
  }
  /** do_swap_page() over several swap entries of one anon family (`owner`), in order (SwapIn for a batch). */
  | {
    readonly type: 'SwapInPages';
    readonly owner: number;
    readonly entries: readonly SwapRun[];
    readonly memcg: number;
    readonly write?: boolean;
    readonly mlocked?: boolean;
    readonly allowReclaim?: boolean;
  }
  /** memory.high of a memcg, in pages (null: "max"): reclaimed down to it now, and after each charge above it. */
  | { readonly type: 'SetMemcgHigh'; readonly memcg: number; readonly highPages: number | null }
  /** memory.swap.max of a memcg, in pages (null: "max"): swap-outs of its pages (and its descendants') are charged against it. */
  | { readonly type: 'SetMemcgSwapMax'; readonly memcg: number; readonly swapMaxPages: number | null }
  /** madvise(MADV_FREE) of exclusive anon pages (lazy), or a write that dirtied such a page again (!lazy). */
  | { readonly type: 'MarkLazyFree'; readonly pfns: readonly number[]; readonly lazy: boolean }
  /** Drop a file's pages and shmem swap entries (unlink/truncate to 0; shm segment destroyed). */
  | { readonly type: 'TruncateFile'; readonly file: number; readonly kind?: FileKind }
  /** Kernel memory: page tables, slab, kernel stacks (GFP_KERNEL, optionally charged to a memcg). */
  | {
    readonly type: 'AddKernelPages';
    readonly kind: KernelPageKind;
    readonly pages: number;
    readonly memcg?: number;
    readonly allowReclaim?: boolean;
  }
  | { readonly type: 'FreeKernelPages'; readonly kind: KernelPageKind; readonly pages: number; readonly memcg?: number }
  /** mark_page_accessed() on page-cache pages (read() hits); GetFilePage hits do this too. */
  | { readonly type: 'MarkPagesAccessed'; readonly pfns: readonly number[] }
  /** mlock / munlock of mapped pages: to and from the unevictable list. */
  | { readonly type: 'MlockPages'; readonly pfns: readonly number[]; readonly lock: boolean }
  /** Simulated time passed: kswapd runs if it was woken and did not finish. */
  | { readonly type: 'Tick'; readonly nowNs: number }
  /** echo mode > /proc/sys/vm/drop_caches: 1 page cache, 2 slab, 3 both. */
  | { readonly type: 'DropCaches'; readonly mode: 1 | 2 | 3 }
  | { readonly type: 'SetSysctl'; readonly name: FramesSysctl; readonly value: number }
  /** Create or update a memcg: memory.max in pages (null: "max"), under `parent` (0: the root). */
  | { readonly type: 'SetMemcgLimit'; readonly memcg: number; readonly maxPages: number | null; readonly parent: number }
  /** Count a memory.events event (oom, oom_kill, oom_group_kill... as the OOM killer reports them). */
  | { readonly type: 'MemcgEvent'; readonly memcg: number; readonly kind: MemcgEventKind };

/** What an allocation got: pages granted in order, pages reclaim took meanwhile, and why it stopped. */
export interface AllocOutcome {
  readonly pfns: readonly PfnRun[];
  readonly evicted: readonly EvictedRun[];
  readonly failed: AllocConstraint | null;
  readonly majorFaults: number;
}

export interface EvictOutcome {
  readonly evicted: readonly EvictedRun[];
}

export type FramesEvent =
  | { readonly type: 'MachineBooted'; readonly config: MachineConfig; readonly modelVersion: number }
  | {
    readonly type: 'UserPagesAllocated';
    readonly memcg: number;
    readonly allowReclaim: boolean;
    readonly mlocked: boolean;
    readonly pages: readonly OwnerRun[];
    readonly outcome: AllocOutcome;
  }
  | { readonly type: 'UserPagesFreed'; readonly pfns: readonly PfnRun[] }
  | {
    readonly type: 'SwappedIn';
    readonly slot: number;
    readonly page: PageOwner;
    readonly memcg: number;
    readonly write: boolean;
    readonly mlocked: boolean;
    readonly allowReclaim: boolean;
    readonly outcome: AllocOutcome;
  }
  | { readonly type: 'SwapSlotsFreed'; readonly slots: readonly SlotRun[] }
  | { readonly type: 'SwapSlotsDuplicated'; readonly slots: readonly SlotRun[] }
  | {
    readonly type: 'FilePageFaulted';
    readonly file: number;
    readonly index: number;
    readonly memcg: number;
    readonly kind: FileKind;
    readonly mlocked: boolean;
    readonly allowReclaim: boolean;
    readonly outcome: AllocOutcome;
  }
  | { readonly type: 'FileTruncated'; readonly file: number; readonly kind: FileKind; readonly outcome: EvictOutcome }
  | {
    readonly type: 'KernelPagesAllocated';
    readonly kind: KernelPageKind;
    readonly pages: number;
    readonly memcg: number;
    readonly allowReclaim: boolean;
    readonly outcome: AllocOutcome;
  }
  | { readonly type: 'KernelPagesFreed'; readonly kind: KernelPageKind; readonly pages: number; readonly memcg: number; readonly outcome: { readonly pfns: readonly PfnRun[] } }
  | { readonly type: 'PagesAccessed'; readonly pfns: readonly PfnRun[] }
  | { readonly type: 'PagesMlocked'; readonly pfns: readonly PfnRun[]; readonly lock: boolean }
  | { readonly type: 'KswapdRan'; readonly nowNs: number; readonly outcome: EvictOutcome }
  | { readonly type: 'CachesDropped'; readonly mode: 1 | 2 | 3; readonly outcome: EvictOutcome & { readonly slabPages: number } }
  | { readonly type: 'SysctlSet'; readonly name: FramesSysctl; readonly value: number }
  | {
    readonly type: 'MemcgLimitSet';
    readonly memcg: number;
    /** -1: "max". */
    readonly maxPages: number;
    readonly parent: number;
    readonly outcome: EvictOutcome & { readonly failed: AllocConstraint | null };
  }
  | { readonly type: 'MemcgEventCounted'; readonly memcg: number; readonly kind: MemcgEventKind }
  | {
    readonly type: 'FilePagesFaulted';
    readonly file: number;
    readonly index: number;
    readonly count: number;
    readonly memcg: number;
    readonly kind: FileKind;
    readonly mlocked: boolean;
    readonly allowReclaim: boolean;
    readonly read: boolean;
    readonly outcome: AllocOutcome;
  }
  | {
    readonly type: 'PagesSwappedIn';
    readonly owner: number;
    readonly entries: readonly SwapRun[];
    readonly memcg: number;
    readonly write: boolean;
    readonly mlocked: boolean;
    readonly allowReclaim: boolean;
    readonly outcome: AllocOutcome;
  }
  /** highPages -1: "max". */
  | { readonly type: 'MemcgHighSet'; readonly memcg: number; readonly highPages: number; readonly outcome: EvictOutcome }
  | { readonly type: 'PagesLazyFreeMarked'; readonly pfns: readonly PfnRun[]; readonly lazy: boolean }
  /** swapMaxPages -1: "max". */
  | { readonly type: 'MemcgSwapMaxSet'; readonly memcg: number; readonly swapMaxPages: number };
