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
// The requests vma sends are frames' own commands (frames/types.ts FramesCommand: AllocUserPages,
// AddKernelPages, GetFilePage, SwapIn, FreeUserPages, FreeSwapSlots, DupSwapSlots,
// FreeKernelPages, TruncateFile, MlockPages, SetMemcgLimit, MemcgEvent, SetSysctl, Tick) and
// its query GetTotals; vm/frames-port.ts builds every one of them.
