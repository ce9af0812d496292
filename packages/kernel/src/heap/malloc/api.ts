// malloc/malloc.c and malloc/arena.c: the public entry points as glibc 2.36 exports them
// (__libc_malloc, __libc_free, __libc_calloc, __libc_realloc, _mid_memalign and its callers,
// __malloc_trim, __malloc_usable_size, __libc_mallinfo2, __malloc_stats, __libc_mallopt),
// ptmalloc_init() with the tunables, and a thread's exit.
import {
  CHUNK_HDR_SZ,
  checkedRequest2size,
  csize2tidx,
  DEFAULT_MMAP_THRESHOLD_MAX,
  HEAP_MAX_SIZE,
  HI_MPROTECT_SIZE,
  IS_MMAPPED,
  NON_MAIN_ARENA,
  MALLOC_ALIGNMENT,
  MINSIZE,
  misaligned,
  PAGESIZE,
  powerof2,
  PTRDIFF_LIMIT,
  SIZE_MAX,
  SIZE_SZ,
  TCACHE_ENTRIES_OFFSET,
  TCACHE_MAX_BINS,
} from '../constants.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';
import type { MallocTunables } from '../tunables.js';
import { inuse, loadRevealed, malloc_printerr, mallocInitState, storeRevealed, top } from './arena-state.js';
import { arenaForChunk, arenaGet, arenaGetRetry, arenaThreadFreeres } from './arena.js';
import { intFree } from './int-free.js';
import { intMalloc } from './int-malloc.js';
import {
  doSetArenaMax,
  doSetArenaTest,
  doSetHugetlb,
  doSetMmapsMax,
  doSetMmapThreshold,
  doSetMxfast,
  doSetPerturbByte,
  doSetTcacheCount,
  doSetTcacheMax,
  doSetTcacheUnsortedLimit,
  doSetTopPad,
  doSetTrimThreshold,
  mallopt as intMallopt,
} from './mallopt.js';
import { intMemalign, intRealloc } from './realloc.js';
import { mallinfo2All, mallocStatsText, mallocTrimAll, type Mallinfo2 } from './stats.js';
import { munmapChunk, mremapChunk } from './sysmalloc.js';
import { maybeInitTcache, tcacheCount, tcacheGet } from './tcache.js';

/** ptmalloc_init(): once per process, in the thread of the first call. */
export function ptmallocInit(h: HeapProcess, t: MallocTunables): void {
  if (h.g[G.Initialized] !== 0) return;
  h.set(G.Initialized, 1);
  h.threadArena = MAIN_ARENA;
  mallocInitState(h, MAIN_ARENA);
  if (t.top_pad !== undefined) doSetTopPad(h, t.top_pad);
  if (t.perturb !== undefined) doSetPerturbByte(h, t.perturb);
  if (t.mmap_threshold !== undefined) doSetMmapThreshold(h, t.mmap_threshold);
  if (t.trim_threshold !== undefined) doSetTrimThreshold(h, t.trim_threshold);
  if (t.mmap_max !== undefined) doSetMmapsMax(h, t.mmap_max);
  if (t.arena_max !== undefined) doSetArenaMax(h, t.arena_max);
  if (t.arena_test !== undefined) doSetArenaTest(h, t.arena_test);
  if (t.tcache_max !== undefined) doSetTcacheMax(h, t.tcache_max);
  if (t.tcache_count !== undefined) doSetTcacheCount(h, t.tcache_count);
  if (t.tcache_unsorted_limit !== undefined) doSetTcacheUnsortedLimit(h, t.tcache_unsorted_limit);
  if (t.mxfast !== undefined) doSetMxfast(h, t.mxfast);
  if (t.hugetlb !== undefined) doSetHugetlb(h, t.hugetlb);
  if (h.g[G.HpPagesize] > 0) h.set(G.AlwaysFailMorecore, 1);
}

/** __libc_malloc(bytes) */
export function libcMalloc(h: HeapProcess, t: MallocTunables, bytes: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  const tbytes = checkedRequest2size(bytes);
  if (tbytes === 0) return 0;
  const tcIdx = csize2tidx(tbytes);
  let tc = h.tcache;
  if (tc === 0) {
    maybeInitTcache(h);
    tc = h.tcache;
  }
  if (tcIdx < h.g[G.TcacheBins] && tc !== 0) {
    const count = tcacheCount(h, tc, tcIdx);
    if (count > 0) return tcacheGet(h, tcIdx, count);
  }
  if (h.singleThread) return intMalloc(h, MAIN_ARENA, bytes);
  let arPtr = arenaGet(h, bytes);
  let victim = intMalloc(h, arPtr, bytes);
  if (victim === 0 && arPtr !== 0) {
    arPtr = arenaGetRetry(h, arPtr, bytes);
    victim = intMalloc(h, arPtr, bytes);
  }
  return victim;
}

/** __libc_free(mem) */
export function libcFree(h: HeapProcess, mem: number): void {
  if (mem === 0) return;
  const p = mem - CHUNK_HDR_SZ;
  // one load of the size field serves chunk_is_mmapped, arena_for_chunk and _int_free
  h.mem.rdPair(p + 8);
  const lo = h.mem.lo;
  const size = lo - (lo & 7) + h.mem.hi * 4294967296;
  if ((lo & IS_MMAPPED) !== 0) {
    const raw = h.sizeNomask(p);
    if (h.g[G.NoDynThreshold] === 0 && raw > h.g[G.MmapThreshold] && raw <= DEFAULT_MMAP_THRESHOLD_MAX) {
      const cs = h.chunksize(p);
      h.set(G.MmapThreshold, cs);
      h.set(G.TrimThreshold, 2 * cs);
    }
    munmapChunk(h, p);
  } else {
    maybeInitTcache(h);
    intFree(h, (lo & NON_MAIN_ARENA) === 0 ? MAIN_ARENA : arenaForChunk(h, p), p, false, size);
  }
}

/** __libc_calloc(n, elem_size): clears what may hold old data, not fresh top or mmapped memory. */
export function libcCalloc(h: HeapProcess, t: MallocTunables, n: number, elemSize: number): number {
  const bytes = n * elemSize;
  if (bytes >= PTRDIFF_LIMIT) return 0;
  const sz = bytes;
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  maybeInitTcache(h);
  let av = h.singleThread ? MAIN_ARENA : arenaGet(h, sz);
  let oldtop = 0;
  let oldtopsize = 0;
  if (av !== 0) {
    oldtop = top(h, av);
    oldtopsize = h.chunksize(oldtop);
    // The source (MORECORE_CLEARS 1) would also count the main arena's memory below
    // sbrk_base + max_system_mem as used; Debian's libc.so.6 (2.36-9+deb12u14) does not: its
    // __libc_calloc goes from chunksize(top) straight to _int_malloc for the main arena, and
    // a calloc that extends top over pages an earlier trim gave back leaves them untouched
    // (measured with mincore). The build is what runs, so the model follows it.
    if (av !== MAIN_ARENA) {
      const heap = oldtop - (oldtop % HEAP_MAX_SIZE);
      const d = heap + h.mem.rd(heap + HI_MPROTECT_SIZE) - oldtop;
      if (oldtopsize < d) oldtopsize = d;
    }
  }
  let mem = intMalloc(h, av, sz);
  if (!h.singleThread && mem === 0 && av !== 0) {
    av = arenaGetRetry(h, av, sz);
    mem = intMalloc(h, av, sz);
  }
  if (mem === 0) return 0;
  callocClear(h, mem, sz, oldtop, oldtopsize);
  return mem;
}

/** The end of __libc_calloc: clears what of the chunk at mem may hold old data. */
export function callocClear(h: HeapProcess, mem: number, sz: number, oldtop: number, oldtopsize: number): void {
  const p = mem - CHUNK_HDR_SZ;
  let csz = h.chunksize(p);
  if ((h.flags(p) & IS_MMAPPED) !== 0) {
    if (h.g[G.PerturbByte] !== 0) h.mem.fill(mem, sz, 0);
    return;
  }
  if (h.g[G.PerturbByte] === 0 && p === oldtop && csz > oldtopsize) csz = oldtopsize;
  const clearsize = csz - SIZE_SZ;
  const nclears = Math.floor(clearsize / 8);
  if (nclears > 9) h.mem.fill(mem, clearsize, 0);
  else {
    let words = 3;
    if (nclears > 4) words = 5;
    if (nclears > 6) words = 7;
    if (nclears > 8) words = 9;
    for (let i = 0; i < words; i++) h.mem.wr(mem + i * 8, 0);
  }
}

/** __libc_realloc(oldmem, bytes) */
export function libcRealloc(h: HeapProcess, t: MallocTunables, oldmem: number, bytes: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  if (bytes === 0 && oldmem !== 0) {
    libcFree(h, oldmem);
    return 0;
  }
  if (oldmem === 0) return libcMalloc(h, t, bytes);
  const oldp = oldmem - CHUNK_HDR_SZ;
  const oldsize = h.chunksize(oldp);
  const mmapped = (h.flags(oldp) & IS_MMAPPED) !== 0;
  let arPtr = 0;
  if (!mmapped) {
    maybeInitTcache(h);
    arPtr = arenaForChunk(h, oldp);
  }
  if (misaligned(oldp, 16) || (oldsize === 0 ? oldp > 0 : oldp > 2 ** 64 - oldsize)) malloc_printerr('realloc(): invalid pointer');
  const nb = checkedRequest2size(bytes);
  if (nb === 0) return 0;
  if (mmapped) {
    const newp = mremapChunk(h, oldp, nb);
    if (newp !== 0) return newp + CHUNK_HDR_SZ;
    if (oldsize - SIZE_SZ >= nb) return oldmem;
    const newmem = libcMalloc(h, t, bytes);
    if (newmem === 0) return 0;
    h.mem.copy(newmem, oldmem, oldsize - CHUNK_HDR_SZ);
    munmapChunk(h, oldp);
    return newmem;
  }
  if (h.singleThread) return intRealloc(h, arPtr, oldp, oldsize, nb);
  let newp = intRealloc(h, arPtr, oldp, oldsize, nb);
  if (newp === 0) {
    newp = libcMalloc(h, t, bytes);
    if (newp !== 0) {
      h.mem.copy(newp, oldmem, h.chunksize(oldp) - CHUNK_HDR_SZ + SIZE_SZ);
      intFree(h, arPtr, oldp, false);
    }
  }
  return newp;
}

/** _mid_memalign(alignment, bytes) */
export function midMemalign(h: HeapProcess, t: MallocTunables, alignment: number, bytes: number): number {
  if (alignment <= MALLOC_ALIGNMENT) return libcMalloc(h, t, bytes);
  if (alignment < MINSIZE) alignment = MINSIZE;
  if (alignment > SIZE_MAX / 2 + 1) return 0;
  if (!powerof2(alignment)) {
    let a = MALLOC_ALIGNMENT * 2;
    while (a < alignment) a *= 2;
    alignment = a;
  }
  if (h.singleThread) return intMemalign(h, MAIN_ARENA, alignment, bytes);
  let arPtr = arenaGet(h, bytes + alignment + MINSIZE);
  let p = intMemalign(h, arPtr, alignment, bytes);
  if (p === 0 && arPtr !== 0) {
    arPtr = arenaGetRetry(h, arPtr, bytes);
    p = intMemalign(h, arPtr, alignment, bytes);
  }
  return p;
}

/** __libc_memalign (also aligned_alloc in 2.36) */
export function libcMemalign(h: HeapProcess, t: MallocTunables, alignment: number, bytes: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return midMemalign(h, t, alignment, bytes);
}

/** __posix_memalign: [return value, pointer]. */
export function posixMemalign(h: HeapProcess, t: MallocTunables, alignment: number, size: number): [number, number] {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  if (alignment % SIZE_SZ !== 0 || !powerof2(alignment / SIZE_SZ) || alignment === 0) return [22 /* EINVAL */, 0];
  const mem = midMemalign(h, t, alignment, size);
  return mem !== 0 ? [0, mem] : [12 /* ENOMEM */, 0];
}

/** __libc_valloc */
export function libcValloc(h: HeapProcess, t: MallocTunables, bytes: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return midMemalign(h, t, PAGESIZE, bytes);
}

/** __libc_pvalloc: rounds with `& -(pagesize - 1)`, which keeps bit 0, as 2.36 does. */
export function libcPvalloc(h: HeapProcess, t: MallocTunables, bytes: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  const r = bytes + PAGESIZE - 1;
  if (r > SIZE_MAX) return 0;
  const rounded = r - (r % PAGESIZE) + (r % 2);
  return midMemalign(h, t, PAGESIZE, rounded);
}

/** __libc_mallopt */
export function libcMallopt(h: HeapProcess, t: MallocTunables, param: number, value: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return intMallopt(h, param, value);
}

/** __malloc_trim */
export function mallocTrim(h: HeapProcess, t: MallocTunables, pad: number): number {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return mallocTrimAll(h, pad);
}

/** __malloc_usable_size */
export function mallocUsableSize(h: HeapProcess, mem: number): number {
  if (mem === 0) return 0;
  const p = mem - CHUNK_HDR_SZ;
  if ((h.flags(p) & IS_MMAPPED) !== 0) return h.chunksize(p) - CHUNK_HDR_SZ;
  if (inuse(h, p)) return h.chunksize(p) - CHUNK_HDR_SZ + SIZE_SZ;
  return 0;
}

/** __libc_mallinfo2 */
export function libcMallinfo2(h: HeapProcess, t: MallocTunables): Mallinfo2 {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return mallinfo2All(h);
}

/** __malloc_stats: the text written to stderr. */
export function mallocStats(h: HeapProcess, t: MallocTunables): string {
  if (h.g[G.Initialized] === 0) ptmallocInit(h, t);
  return mallocStatsText(h);
}

/** tcache_thread_shutdown() then __malloc_arena_thread_freeres(): the calling thread exits. */
export function threadExit(h: HeapProcess): void {
  const tc = h.tcache;
  h.tcacheShuttingDown = true;
  if (tc !== 0) {
    h.setTcache(0);
    for (let i = 0; i < TCACHE_MAX_BINS; i++) {
      const ea = tc + TCACHE_ENTRIES_OFFSET + i * 8;
      while (h.mem.rd(ea) !== 0) {
        const e = h.mem.rd(ea);
        if ((h.mem.rdLo(ea) & 15) !== 0) malloc_printerr('tcache_thread_shutdown(): unaligned tcache chunk detected');
        loadRevealed(h, e);
        storeRevealed(h, ea);
        libcFree(h, e);
      }
    }
    libcFree(h, tc);
  }
  arenaThreadFreeres(h);
}
