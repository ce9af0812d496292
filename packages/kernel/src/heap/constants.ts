// glibc 2.36 malloc/malloc.c and malloc/arena.c on x86-64: the sizes, bins and limits the
// allocator is built from. SIZE_SZ 8, MALLOC_ALIGNMENT 16.

export const SIZE_SZ = 8;
export const MALLOC_ALIGNMENT = 16;
export const MALLOC_ALIGN_MASK = 15;
export const CHUNK_HDR_SZ = 16;
/** offsetof(struct malloc_chunk, fd_nextsize) rounded to the alignment. */
export const MINSIZE = 32;
/** sizeof(struct malloc_chunk): prev_size, size, fd, bk, fd_nextsize, bk_nextsize. */
export const MALLOC_CHUNK_SIZEOF = 48;
export const PAGESIZE = 4096;

export const PREV_INUSE = 1;
export const IS_MMAPPED = 2;
export const NON_MAIN_ARENA = 4;
export const SIZE_BITS = 7;

/**
 * PTRDIFF_MAX + 1 (2^63): requests from here up fail with ENOMEM (checked_request2size). A
 * double cannot hold 2^63 - 1, so `x > PTRDIFF_MAX` is written `x >= PTRDIFF_LIMIT`.
 */
export const PTRDIFF_LIMIT = 2 ** 63;
export const SIZE_MAX = 2 ** 64 - 1;

export const NBINS = 128;
export const NSMALLBINS = 64;
export const MIN_LARGE_SIZE = 1024;
export const NFASTBINS = 10;
/** 80 * SIZE_SZ / 4 */
export const MAX_FAST_SIZE = 160;
export const DEFAULT_MXFAST = 128;
export const BINMAPSIZE = 4;
export const FASTBIN_CONSOLIDATION_THRESHOLD = 65536;
export const MAX_ITERS = 10000;

export const TCACHE_MAX_BINS = 64;
export const TCACHE_FILL_COUNT = 7;
export const MAX_TCACHE_COUNT = 65535;
/** tidx2usize(TCACHE_MAX_BINS - 1) */
export const MAX_TCACHE_SIZE = 63 * 16 + MINSIZE - SIZE_SZ;
/** sizeof(tcache_perthread_struct): uint16_t counts[64] then tcache_entry *entries[64]. */
export const TCACHE_STRUCT_SIZE = 2 * TCACHE_MAX_BINS + 8 * TCACHE_MAX_BINS;
export const TCACHE_ENTRIES_OFFSET = 2 * TCACHE_MAX_BINS;

export const DEFAULT_TOP_PAD = 131072;
export const DEFAULT_TRIM_THRESHOLD = 128 * 1024;
export const DEFAULT_MMAP_THRESHOLD = 128 * 1024;
/** 4 MiB * sizeof(long) */
export const DEFAULT_MMAP_THRESHOLD_MAX = 4 * 1024 * 1024 * 8;
export const DEFAULT_MMAP_MAX = 65536;
/** NARENAS_FROM_NCORES(1) */
export const DEFAULT_ARENA_TEST = 8;
export const narenasFromNcores = (n: number): number => n * 8;
/** MMAP_AS_MORECORE_SIZE: the least a failed brk falls back to mmapping. */
export const MMAP_AS_MORECORE_SIZE = 1024 * 1024;

// arena.c
export const HEAP_MIN_SIZE = 32 * 1024;
export const HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX;
/** sizeof(heap_info): ar_ptr, prev, size, mprotect_size, pagesize, pad[8]. */
export const HEAP_INFO_SIZE = 48;
export const HI_AR_PTR = 0;
export const HI_PREV = 8;
export const HI_SIZE = 16;
export const HI_MPROTECT_SIZE = 24;
export const HI_PAGESIZE = 32;

// struct malloc_state (2200 bytes), field offsets.
export const MS_MUTEX = 0;
export const MS_FLAGS = 4;
export const MS_HAVE_FASTCHUNKS = 8;
export const MS_FASTBINS = 16;
export const MS_TOP = 96;
export const MS_LAST_REMAINDER = 104;
export const MS_BINS = 112;
export const MS_BINMAP = 112 + (NBINS * 2 - 2) * 8;
export const MS_NEXT = MS_BINMAP + BINMAPSIZE * 4;
export const MS_NEXT_FREE = MS_NEXT + 8;
export const MS_ATTACHED_THREADS = MS_NEXT_FREE + 8;
export const MS_SYSTEM_MEM = MS_ATTACHED_THREADS + 8;
export const MS_MAX_SYSTEM_MEM = MS_SYSTEM_MEM + 8;
export const MALLOC_STATE_SIZE = MS_MAX_SYSTEM_MEM + 8;
export const NONCONTIGUOUS_BIT = 2;

// struct malloc_chunk field offsets.
export const C_PREV_SIZE = 0;
export const C_SIZE = 8;
export const C_FD = 16;
export const C_BK = 24;
export const C_FD_NEXTSIZE = 32;
export const C_BK_NEXTSIZE = 40;

/**
 * x rounded down to a multiple of the power of two a, for x >= 0: x - (x % a) without the
 * remainder, which V8 compiles to a call to fmod when x may exceed 2^31 (the division by a
 * power of two and the floor are exact for every double).
 */
export const floorTo = (x: number, a: number): number => Math.floor(x / a) * a;
/** x % a !== 0 for a power of two a (any sign of x), without fmod (see floorTo). */
export const misaligned = (x: number, a: number): boolean => Math.floor(x / a) * a !== x;

/** request2size(): the chunk size for a request (no overflow check). */
export function request2size(req: number): number {
  const s = req + SIZE_SZ + MALLOC_ALIGN_MASK;
  return s < MINSIZE ? MINSIZE : floorTo(s, MALLOC_ALIGNMENT);
}

/** checked_request2size(): 0 when the request exceeds PTRDIFF_MAX. */
export function checkedRequest2size(req: number): number {
  if (req >= PTRDIFF_LIMIT) return 0;
  return request2size(req);
}

export const inSmallbinRange = (sz: number): boolean => sz < MIN_LARGE_SIZE;
export const smallbinIndex = (sz: number): number => Math.floor(sz / 16);

/** largebin_index_64() */
export function largebinIndex(sz: number): number {
  if (Math.floor(sz / 64) <= 48) return 48 + Math.floor(sz / 64);
  if (Math.floor(sz / 512) <= 20) return 91 + Math.floor(sz / 512);
  if (Math.floor(sz / 4096) <= 10) return 110 + Math.floor(sz / 4096);
  if (Math.floor(sz / 32768) <= 4) return 119 + Math.floor(sz / 32768);
  if (Math.floor(sz / 262144) <= 2) return 124 + Math.floor(sz / 262144);
  return 126;
}

export const binIndex = (sz: number): number => (inSmallbinRange(sz) ? smallbinIndex(sz) : largebinIndex(sz));

/** fastbin_index(): (unsigned int) sz >> 4, minus 2. */
export const fastbinIndex = (sz: number): number => ((sz >>> 0) >>> 4) - 2;

/** csize2tidx() */
export const csize2tidx = (x: number): number => Math.floor((x - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT);
/** tidx2usize() */
export const tidx2usize = (idx: number): number => idx * MALLOC_ALIGNMENT + MINSIZE - SIZE_SZ;

/** set_max_fast(): the global_max_fast a M_MXFAST value gives. */
export const maxFastFor = (s: number): number => (s <= MALLOC_ALIGN_MASK - SIZE_SZ ? MINSIZE / 2 : (s + SIZE_SZ) - ((s + SIZE_SZ) % MALLOC_ALIGNMENT));

export const alignUpTo = (x: number, a: number): number => {
  const r = x % a;
  return r === 0 ? x : x + (a - r);
};
export const alignDownTo = (x: number, a: number): number => x - (x % a);
/** powerof2(x) as glibc defines it: true for 0. */
export function powerof2(x: number): boolean {
  if (x === 0) return true;
  if (!(x > 0) || !Number.isInteger(x)) return false;
  while (x >= 4294967296) {
    if (x % 2 !== 0) return false;
    x /= 2;
  }
  return (x & (x - 1)) === 0;
}
