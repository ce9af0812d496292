// malloc/malloc.c: _int_free() and malloc_consolidate(): tcache, fastbins, coalescing into the
// unsorted bin or top, and the free-time consolidation and trimming of a large free.
import {
  CHUNK_HDR_SZ,
  csize2tidx,
  FASTBIN_CONSOLIDATION_THRESHOLD,
  fastbinIndex,
  inSmallbinRange,
  MINSIZE,
  misaligned,
  NFASTBINS,
  PREV_INUSE,
} from '../constants.js';
import { G, MAIN_ARENA, MallocHang, TCACHE_KEY_HI, TCACHE_KEY_LO, type HeapProcess } from '../process.js';
import {
  bk,
  clearInuseBitAtOffset,
  contiguous,
  fastbinAddr,
  fd,
  haveFastchunks,
  inuseBitAtOffset,
  loadRevealed,
  malloc_printerr,
  prevSize,
  setBk,
  setBkNextsize,
  setFd,
  setFdNextsize,
  setFoot,
  setHaveFastchunks,
  setHead,
  setTop,
  storeProtected,
  systemMem,
  top,
  unlinkChunk,
  unsortedChunks,
} from './arena-state.js';
import { heapForPtr, heapTrim } from './heap.js';
import { munmapChunk, systrim } from './sysmalloc.js';
import { tcacheCount, tcachePut } from './tcache.js';

/** free_perturb(p, n) */
function freePerturb(h: HeapProcess, p: number, n: number): void {
  const pb = h.g[G.PerturbByte];
  if (pb !== 0) h.mem.fill(p, n, pb & 0xff);
}

/** (uintptr_t) p > (uintptr_t) -size || misaligned_chunk (p) */
function invalidPointer(p: number, size: number): boolean {
  if (misaligned(p, 16)) return true;
  return size === 0 ? p > 0 : p > 2 ** 64 - size;
}

/** _int_free(av, p, have_lock); `knownSize` is chunksize(p) when the caller just loaded it. */
export function intFree(h: HeapProcess, av: number, p: number, haveLock: boolean, knownSize = -1): void {
  const m = h.mem;
  let size = knownSize >= 0 ? knownSize : h.chunksize(p);
  if (invalidPointer(p, size)) malloc_printerr('free(): invalid pointer');
  if (size < MINSIZE || misaligned(size, 16)) malloc_printerr('free(): invalid size');

  const tc = h.tcache;
  const tcIdx = csize2tidx(size);
  if (tc !== 0 && tcIdx < h.g[G.TcacheBins]) {
    const e = p + 16;
    m.rdPair(e + 8);
    if (m.lo === TCACHE_KEY_LO && m.hi === TCACHE_KEY_HI) {
      // tcache->entries[tc_idx], then REVEAL_PTR(tmp->next) down the list
      const count = h.g[G.TcacheCount];
      const ea = tc + 128 + tcIdx * 8;
      let tmp = m.rd(ea);
      let tmpLo = m.rdLo(ea);
      for (let cnt = 0; tmp !== 0; cnt++) {
        if (cnt >= count) malloc_printerr('free(): too many chunks detected in tcache');
        if ((tmpLo & 15) !== 0) malloc_printerr('free(): unaligned chunk detected in tcache 2');
        if (tmp === e) malloc_printerr('free(): double free detected in tcache 2');
        tmp = loadRevealed(h, tmp);
        tmpLo = h.revealedLo;
      }
    }
    const count = tcacheCount(h, tc, tcIdx);
    if (count < h.g[G.TcacheCount]) {
      tcachePut(h, p, tcIdx, count);
      return;
    }
  }

  if (size <= h.g[G.GlobalMaxFast]) {
    const nextNomask = h.sizeNomask(p + size);
    if (nextNomask <= CHUNK_HDR_SZ || h.chunksize(p + size) >= systemMem(h, av)) malloc_printerr('free(): invalid next size (fast)');
    freePerturb(h, p + 16, size - CHUNK_HDR_SZ);
    setHaveFastchunks(h, av, true);
    const idx = fastbinIndex(size);
    const fb = fastbinAddr(av, idx);
    const old = m.rd(fb);
    if (old === p) malloc_printerr('double free or corruption (fasttop)');
    storeProtected(h, p + 16, old);
    m.wr(fb, p);
    if (haveLock && old !== 0 && fastbinIndex(h.chunksize(old)) !== idx) malloc_printerr('invalid fastbin entry (free)');
    return;
  }

  if ((h.flags(p) & 2) === 0) {
    const nextchunk = p + size;
    const t = top(h, av);
    if (p === t) malloc_printerr('double free or corruption (top)');
    if (contiguous(h, av) && nextchunk >= t + h.chunksize(t)) malloc_printerr('double free or corruption (out)');
    if ((h.flags(nextchunk) & PREV_INUSE) === 0) malloc_printerr('double free or corruption (!prev)');
    const nextsize = h.chunksize(nextchunk);
    if (h.sizeNomask(nextchunk) <= CHUNK_HDR_SZ || nextsize >= systemMem(h, av)) malloc_printerr('free(): invalid next size (normal)');
    freePerturb(h, p + 16, size - CHUNK_HDR_SZ);

    if ((h.flags(p) & PREV_INUSE) === 0) {
      const prevsize = prevSize(h, p);
      size += prevsize;
      p -= prevsize;
      if (h.chunksize(p) !== prevsize) malloc_printerr('corrupted size vs. prev_size while consolidating');
      unlinkChunk(h, av, p);
    }

    if (nextchunk !== t) {
      const nextinuse = inuseBitAtOffset(h, nextchunk, nextsize);
      if (!nextinuse) {
        unlinkChunk(h, av, nextchunk);
        size += nextsize;
      } else clearInuseBitAtOffset(h, nextchunk, 0);
      const bck = unsortedChunks(av);
      const fwd = fd(h, bck);
      if (bk(h, fwd) !== bck) malloc_printerr('free(): corrupted unsorted chunks');
      setFd(h, p, fwd);
      setBk(h, p, bck);
      if (!inSmallbinRange(size)) {
        setFdNextsize(h, p, 0);
        setBkNextsize(h, p, 0);
      }
      setFd(h, bck, p);
      setBk(h, fwd, p);
      setHead(h, p, size + PREV_INUSE);
      setFoot(h, p, size);
    } else {
      size += nextsize;
      setHead(h, p, size + PREV_INUSE);
      setTop(h, av, p);
    }

    if (size >= FASTBIN_CONSOLIDATION_THRESHOLD) {
      if (haveFastchunks(h, av)) mallocConsolidate(h, av);
      if (av === MAIN_ARENA) {
        if (h.chunksize(top(h, av)) >= h.g[G.TrimThreshold]) systrim(h, h.g[G.TopPad], av);
      } else {
        heapTrim(h, heapForPtr(top(h, av)), h.g[G.TopPad]);
      }
    }
  } else {
    munmapChunk(h, p);
  }
}

/** malloc_consolidate(av): every fastbin chunk coalesced and put in the unsorted bin (or top). */
export function mallocConsolidate(h: HeapProcess, av: number): void {
  const m = h.mem;
  setHaveFastchunks(h, av, false);
  const unsortedBin = unsortedChunks(av);
  const bound = systemMem(h, av) / 16 + 2;
  let steps = 0;
  for (let i = 0; i < NFASTBINS; i++) {
    const fb = fastbinAddr(av, i);
    let p = m.rd(fb);
    let pLo = m.rdLo(fb);
    m.wr(fb, 0);
    while (p !== 0) {
      if (++steps > bound) throw new MallocHang('malloc_consolidate');
      if ((pLo & 15) !== 0) malloc_printerr('malloc_consolidate(): unaligned fastbin chunk detected');
      if (fastbinIndex(h.chunksize(p)) !== i) malloc_printerr('malloc_consolidate(): invalid chunk size');
      const nextp = loadRevealed(h, p + 16);
      const nextpLo = h.revealedLo;
      let size = h.chunksize(p);
      const nextchunk = p + size;
      const nextsize = h.chunksize(nextchunk);
      if ((h.flags(p) & PREV_INUSE) === 0) {
        const prevsize = prevSize(h, p);
        size += prevsize;
        p -= prevsize;
        if (h.chunksize(p) !== prevsize) malloc_printerr('corrupted size vs. prev_size in fastbins');
        unlinkChunk(h, av, p);
      }
      if (nextchunk !== top(h, av)) {
        const nextinuse = inuseBitAtOffset(h, nextchunk, nextsize);
        if (!nextinuse) {
          size += nextsize;
          unlinkChunk(h, av, nextchunk);
        } else clearInuseBitAtOffset(h, nextchunk, 0);
        const firstUnsorted = fd(h, unsortedBin);
        setFd(h, unsortedBin, p);
        setBk(h, firstUnsorted, p);
        if (!inSmallbinRange(size)) {
          setFdNextsize(h, p, 0);
          setBkNextsize(h, p, 0);
        }
        setHead(h, p, size + PREV_INUSE);
        setBk(h, p, unsortedBin);
        setFd(h, p, firstUnsorted);
        setFoot(h, p, size);
      } else {
        size += nextsize;
        setHead(h, p, size + PREV_INUSE);
        setTop(h, av, p);
      }
      p = nextp;
      pLo = nextpLo;
    }
  }
}
