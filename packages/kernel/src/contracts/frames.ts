// vma -> frames: what an address space asks of physical memory, and what it gets back.
//
// frames owns every page frame: zones, buddy lists, the page cache, the LRU lists, swap
// slots, memcg charges. vma owns the page tables. A frame remembers who it belongs to
// (PageOwner) so that, when reclaim evicts it, frames can tell vma which PTEs to change.
// frames never calls another service: it answers, and its answers say what vma must do.

/** What a user page frame holds. 'shmem' is shared anonymous / tmpfs memory (counted in Shmem, swappable). */
export type PageKind = 'anon' | 'file' | 'shmem';

/** Reverse-map key of a user page. */
export interface PageOwner {
  readonly kind: PageKind;
  /** anon: the mm (anon_vma root) id; file/shmem: the file (inode) id. */
  readonly owner: number;
  /** anon: the virtual page number in that mm; file/shmem: the page offset in the file. */
  readonly index: number;
}

/** A page reclaim took away. vma must drop the PTEs that map it (anon: they become swap entries). */
export interface EvictedPage {
  readonly pfn: number;
  readonly page: PageOwner;
  /** The swap slot the page was written to; -1 when it was dropped (clean file page). */
  readonly swapSlot: number;
}

export type AllocConstraint =
  | { readonly kind: 'global' }
  | { readonly kind: 'memcg'; readonly memcg: number };

/**
 * The answer to an allocation of user pages, in request order. Pages are granted one by one
 * until one cannot be had even after reclaim; then `failed` says which constraint ran out and
 * the caller runs the OOM killer and asks again for the rest.
 */
export interface AllocReply {
  readonly pfns: readonly number[];
  readonly evicted: readonly EvictedPage[];
  readonly failed: AllocConstraint | null;
  /** Pages satisfied from swap were major faults. */
  readonly majorFaults: number;
}

/** The figures vma needs for overcommit and CommitLimit, and oom needs for totalpages. */
export interface FramesTotals {
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
  readonly freePages: number;
  readonly freeSwapPages: number;
  /** file-backed pages (page cache), for the pre-5.2 overcommit heuristic */
  readonly filePages: number;
  readonly shmemPages: number;
  readonly sReclaimablePages: number;
  readonly totalReservePages: number;
  readonly hugetlbPages: number;
}

// ---------------------------------------------------------------------------------------------
// The requests vma sends (added by the vm engineer; frames implements them as commands of the
// same `type`). A Need carries one of these; InProcessMachine hands it to frames' decide() as a
// command and gives vma what frames' answer() returns (the reply type named on each).
// Pages are asked for in runs so that a touch of a million pages is one small request.

/** Consecutive pages of one owner: index, index + 1, ... index + count - 1. */
export interface PageRun {
  readonly kind: PageKind;
  readonly owner: number;
  readonly index: number;
  readonly count: number;
}

/** Reply: FramesTotals. Changes nothing (no events). */
export interface GetTotalsRequest {
  readonly type: 'GetTotals';
}

/**
 * Zero-filled anonymous pages (first write faults, COW copies), charged to `memcg`, in run
 * order. Reply: AllocReply. Reclaim may run; its evictions come back in the reply.
 */
export interface AllocUserPagesRequest {
  readonly type: 'AllocUserPages';
  readonly memcg: number;
  readonly runs: readonly PageRun[];
  /** What the faulting task was doing (for the OOM report): 'page-fault', 'mmap-populate'... */
  readonly context?: string;
}

/** Page-table pages (PTE/PMD/PUD), kernel pages counted in PageTables, charged to `memcg`. Reply: AllocReply. */
export interface AllocPageTablesRequest {
  readonly type: 'AllocPageTables';
  readonly memcg: number;
  readonly count: number;
}

/**
 * The page-cache pages at file offsets index .. index + count - 1 of `file` (kind 'file') or of
 * a shmem object (kind 'shmem': shared anonymous memory; absent pages are allocated zeroed,
 * swapped ones come back from swap). `map`: the pages are being mapped by one more PTE each
 * (counted in Mapped); false when vma only copies from them (a private write fault).
 * Reply: AllocReply (pfns in offset order; majorFaults = pages read from disk or swap).
 */
export interface GetFilePageRequest {
  readonly type: 'GetFilePage';
  readonly memcg: number;
  readonly kind: 'file' | 'shmem';
  readonly file: number;
  readonly index: number;
  readonly count: number;
  readonly map: boolean;
}

/**
 * Anonymous pages back from swap, in slot order. `owners[i]` is the page's new rmap key.
 * `keep[i]`: other PTEs still hold this swap entry (after fork), so the slot stays allocated
 * (swap cache) until FreeSwapSlots. Reply: AllocReply (each page is a major fault).
 */
export interface SwapInRequest {
  readonly type: 'SwapIn';
  readonly memcg: number;
  readonly slots: readonly number[];
  readonly owners: readonly PageOwner[];
  readonly keep: readonly boolean[];
}

/**
 * Mappings went away (munmap, exit, MADV_DONTNEED, COW break, brk shrink):
 * `pfns` anonymous pages whose last PTE went (freed); `filePfns` page-cache pages that lost
 * one PTE each (they stay cached); `pageTablePfns` freed page-table pages. Reply: none needed.
 */
export interface FreeUserPagesRequest {
  readonly type: 'FreeUserPages';
  readonly pfns: readonly number[];
  readonly filePfns?: readonly number[];
  readonly pageTablePfns?: readonly number[];
}

/** Swap slots no PTE refers to any more. */
export interface FreeSwapSlotsRequest {
  readonly type: 'FreeSwapSlots';
  readonly slots: readonly number[];
}

/** mlock/munlock: pages move to/from the unevictable list (Unevictable, Mlocked). */
export interface MlockPagesRequest {
  readonly type: 'MlockPages';
  readonly pfns: readonly number[];
  readonly locked: boolean;
}

/** MADV_FREE: anonymous pages that reclaim may drop without swapping (evicted with swapSlot -1). `lazy` false: written again. */
export interface MarkLazyFreeRequest {
  readonly type: 'MarkLazyFree';
  readonly pfns: readonly number[];
  readonly lazy: boolean;
}

/** cgroup v2 memory controller settings for one memcg (sent when the cgroup is created and when a file is written). Pages; -1 = "max". */
export interface SetMemcgLimitRequest {
  readonly type: 'SetMemcgLimit';
  readonly memcg: number;
  readonly parent: number;
  readonly path: string;
  readonly maxPages: number;
  readonly highPages: number;
  readonly swapMaxPages: number;
  readonly oomGroup: boolean;
}

/** Reply: MemcgStats. Changes nothing. */
export interface GetMemcgStatsRequest {
  readonly type: 'GetMemcgStats';
  readonly memcg: number;
}

export interface MemcgStats {
  /** memory.current, pages (hierarchical). */
  readonly currentPages: number;
  readonly swapCurrentPages: number;
  /** memory.events counters frames sees: high, max (charges over the limit). */
  readonly low: number;
  readonly high: number;
  readonly max: number;
}

/** Simulated time moved to `nowNs` (kswapd, writeback, PSI windows...). Reply: { evicted: EvictedPage[] } or nothing. */
export interface FramesTickRequest {
  readonly type: 'Tick';
  readonly nowNs: number;
}

export type FramesRequest =
  | GetTotalsRequest
  | AllocUserPagesRequest
  | AllocPageTablesRequest
  | GetFilePageRequest
  | SwapInRequest
  | FreeUserPagesRequest
  | FreeSwapSlotsRequest
  | MlockPagesRequest
  | MarkLazyFreeRequest
  | SetMemcgLimitRequest
  | GetMemcgStatsRequest
  | FramesTickRequest;
