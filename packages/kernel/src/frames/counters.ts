// Indexes into FramesState.ctr, the model's scalar state: node-wide page counts (the
// NR_* items of vmstat), event counters (vm_event_item), swap and kswapd state, sysctls, and
// per-zone counts and watermarks. One Float64Array, so that decide() can save and restore it
// in one copy.
import { NR_LRU_LISTS, NR_KERNEL_KINDS, NR_PAGE_ORDERS } from './constants.js';

let next = 0;
const one = (): number => next++;
const many = (n: number): number => {
  const at = next;
  next += n;
  return at;
};

// Node page counts.
export const N_LRU = many(NR_LRU_LISTS); // nr_inactive_anon .. nr_unevictable
export const N_ANON = one(); // nr_anon_pages
export const N_FILE_PAGES = one(); // nr_file_pages: file + blockdev + shmem + swap cache
export const N_SHMEM = one();
export const N_SWAPCACHE = one();
export const N_BDEV = one(); // Buffers
export const N_MLOCK = one();
export const N_KERNEL = many(NR_KERNEL_KINDS); // by KERNEL_PAGE_KINDS

// Events (vm_event_item).
export const E_PGPGIN = one(); // KiB read from disk (file and swap)
export const E_PGPGOUT = one();
export const E_PSWPIN = one();
export const E_PSWPOUT = one();
export const E_PGALLOC = many(5); // by zone index
export const E_ALLOCSTALL = many(5); // by zone index (reclaim_idx)
export const E_PGFREE = one();
export const E_PGACTIVATE = one();
export const E_PGDEACTIVATE = one();
export const E_PGREFILL = one();
export const E_PGSTEAL_KSWAPD = one();
export const E_PGSTEAL_DIRECT = one();
export const E_PGSCAN_KSWAPD = one();
export const E_PGSCAN_DIRECT = one();
export const E_PGSCAN_ANON = one();
export const E_PGSCAN_FILE = one();
export const E_PGSTEAL_ANON = one();
export const E_PGSTEAL_FILE = one();
export const E_SLABS_SCANNED = one();
export const E_PAGEOUTRUN = one();
export const E_DROP_PAGECACHE = one();
export const E_DROP_SLAB = one();
export const E_OOM_KILL = one();
export const E_MLOCKED = one(); // unevictable_pgs_mlocked
export const E_MUNLOCKED = one(); // unevictable_pgs_munlocked
export const E_MAJFAULT = one(); // major faults frames served (file reads, swap-ins)
export const E_VMSCAN_WRITE = one(); // nr_vmscan_write
export const E_KSWAPD_LOW_WMARK_HIT_QUICKLY = one();
export const E_KSWAPD_HIGH_WMARK_HIT_QUICKLY = one();
export const E_PGLAZYFREE = one(); // pages madvise(MADV_FREE) made lazily freeable
export const E_PGLAZYFREED = one(); // lazily freeable pages reclaim dropped

// Swap.
export const SW_TOTAL = one(); // usable slots (device pages - 1: page 0 is the header)
export const SW_FREE = one(); // nr_swap_pages
export const SW_CURSOR = one(); // next-fit cursor

// kswapd.
export const K_PENDING = one();
export const K_CLASSZONE = one();
export const K_FAILURES = one();

// Sysctls the model reads.
export const S_MIN_FREE_KBYTES = one();
export const S_USER_MIN_FREE_KBYTES = one(); // -1: not set by the user
export const S_WSF = one();
export const S_SWAPPINESS = one();
export const TOTALRESERVE = one();

// Table sizes.
export const T_MEMCGS = one();
export const T_HANDLES = one(); // handles ever made (high water)
export const T_HANDLE_FREE = one(); // top of the free-handle stack
export const T_FILES = one();

// Per zone: stride ZS from Z0.
export const ZF_FREE = 0; // NR_FREE_PAGES
export const ZF_NRFREE = 1; // free_area[order].nr_free, NR_PAGE_ORDERS of them
export const ZF_LRU = ZF_NRFREE + NR_PAGE_ORDERS; // nr_zone_* LRU counts
export const ZF_MLOCK = ZF_LRU + NR_LRU_LISTS;
export const ZF_WMIN = ZF_MLOCK + 1;
export const ZF_WLOW = ZF_WMIN + 1;
export const ZF_WHIGH = ZF_WLOW + 1;
export const ZF_WPROMO = ZF_WHIGH + 1;
export const ZF_RESERVE = ZF_WPROMO + 1; // lowmem_reserve[5]
export const ZS = ZF_RESERVE + 5;
export const MAX_ZONES = 5;
export const Z0 = many(ZS * MAX_ZONES);

export const CTR_SIZE = next;

// Memcg table (FramesState.mcg), stride MS per memcg.
export const M_ID = 0;
export const M_PARENT = 1; // memcg index, -1 for the root
export const M_MAX = 2; // pages; -1: "max"
export const M_CURRENT = 3;
export const M_EV = 4; // memory.events: low, high, max, oom, oom_kill, oom_group_kill
export const M_EVL = M_EV + 6; // memory.events.local
export const M_LRU_HEAD = M_EVL + 6;
export const M_LRU_SIZE = M_LRU_HEAD + NR_LRU_LISTS;
export const M_K_HEAD = M_LRU_SIZE + NR_LRU_LISTS;
export const M_K_SIZE = M_K_HEAD + NR_KERNEL_KINDS;
export const M_HIGH = M_K_SIZE + NR_KERNEL_KINDS; // memory.high, pages; -1: "max"
// memory.swap.*: hashed only once some memcg uses them (aggregate.ts stateHash), so that logs
// written before swap.max was enforced keep their state hashes.
export const M_SWAP_MAX = M_HIGH + 1; // memory.swap.max, pages; -1: "max"
export const M_SWAP_CURRENT = M_SWAP_MAX + 1; // memory.swap.current, pages (hierarchical)
export const M_SWAP_EV = M_SWAP_CURRENT + 1; // memory.swap.events: max, fail (hierarchical)
export const MS = M_SWAP_EV + 2;

export const MEMCG_SWAP_EVENTS = ['max', 'fail'] as const;
export type MemcgSwapEventKind = (typeof MEMCG_SWAP_EVENTS)[number];

export const MEMCG_EVENTS = ['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill'] as const;
export type MemcgEventKind = (typeof MEMCG_EVENTS)[number];
