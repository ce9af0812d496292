// malloc/malloc.c: _int_malloc(), in glibc 2.36's order: fastbin, small bin, (consolidate for
// a large request), the unsorted scan with last_remainder and tcache stashing, the large bin
// best fit, the binmap search, top, consolidate-and-retry, sysmalloc.
import {
  CHUNK_HDR_SZ,
  checkedRequest2size,
  csize2tidx,
  fastbinIndex,
  inSmallbinRange,
  largebinIndex,
  MAX_ITERS,
  MINSIZE,
  NON_MAIN_ARENA,
  PREV_INUSE,
  smallbinIndex,
  BINMAPSIZE,
} from '../constants.js';
import { G, MAIN_ARENA, MallocHang, type HeapProcess } from '../process.js';
import {
  binAt,
  bk,
  bkNextsize,
  binmapWord,
  fastbinAddr,
  fd,
  fdNextsize,
  haveFastchunks,
  loadRevealed,
  malloc_printerr,
  markBin,
  storeRevealed,
  setBinmapWord,
  setBk,
  setBkNextsize,
  setFd,
  setFdNextsize,
  setFoot,
  setHead,
  setInuseBitAtOffset,
  setLastRemainder,
  setNonMainArena,
  setTop,
  systemMem,
  top,
  unlinkChunk,
  unsortedChunks,
  lastRemainder,
} from './arena-state.js';
import { mallocConsolidate } from './int-free.js';
import { sysmalloc } from './sysmalloc.js';
import { tcacheCount, tcacheGet, tcachePut } from './tcache.js';

/** alloc_perturb(p, n) */
export function allocPerturb(h: HeapProcess, p: number, n: number): void {
  const pb = h.g[G.PerturbByte];
  if (pb !== 0) h.mem.fill(p, n, (pb ^ 0xff) & 0xff);
}

/** _int_malloc(av, bytes): a user pointer, or 0 (errno ENOMEM). av 0: no usable arena. */
export function intMalloc(h: HeapProcess, av: number, bytes: number): number {
  const nb = checkedRequest2size(bytes);
  if (nb === 0) return 0;
  if (av === 0) {
    const p = sysmalloc(h, nb, 0);
    if (p !== 0) allocPerturb(h, p, bytes);
    return p;
  }
  const m = h.mem;
  const nonMain = av !== MAIN_ARENA ? NON_MAIN_ARENA : 0;
  const tc = h.tcache;

  // Fastbin.
  if (nb <= h.g[G.GlobalMaxFast]) {
    const idx = fastbinIndex(nb);
    const fb = fastbinAddr(av, idx);
    const victim = m.rd(fb);
    if (victim !== 0) {
      if ((m.rdLo(fb) & 15) !== 0) malloc_printerr('malloc(): unaligned fastbin chunk detected 2');
      const next = loadRevealed(h, victim + 16);
      if (!h.singleThread && next !== 0 && (h.revealedLo & 15) !== 0) malloc_printerr('malloc(): unaligned fastbin chunk detected');
      storeRevealed(h, fb);
      if (fastbinIndex(h.chunksize(victim)) !== idx) malloc_printerr('malloc(): memory corruption (fast)');
      const tcIdx = csize2tidx(nb);
      if (tc !== 0 && tcIdx < h.g[G.TcacheBins]) {
        let tcVictim: number;
        while (tcacheCount(h, tc, tcIdx) < h.g[G.TcacheCount] && (tcVictim = m.rd(fb)) !== 0) {
          if ((m.rdLo(fb) & 15) !== 0) malloc_printerr('malloc(): unaligned fastbin chunk detected 3');
          const n2 = loadRevealed(h, tcVictim + 16);
          if (!h.singleThread && n2 !== 0 && (h.revealedLo & 15) !== 0) malloc_printerr('malloc(): unaligned fastbin chunk detected');
          storeRevealed(h, fb);
          tcachePut(h, tcVictim, tcIdx);
        }
      }
      const p = victim + 16;
      allocPerturb(h, p, bytes);
      return p;
    }
  }

  let idx: number;
  // Small bin.
  if (inSmallbinRange(nb)) {
    idx = smallbinIndex(nb);
    const bin = binAt(av, idx);
    const victim = bk(h, bin);
    if (victim !== bin) {
      const bck = bk(h, victim);
      if (fd(h, bck) !== victim) malloc_printerr('malloc(): smallbin double linked list corrupted');
      setInuseBitAtOffset(h, victim, nb);
      setBk(h, bin, bck);
      setFd(h, bck, bin);
      if (nonMain) setNonMainArena(h, victim);
      const tcIdx = csize2tidx(nb);
      if (tc !== 0 && tcIdx < h.g[G.TcacheBins]) {
        let tcVictim: number;
        while (tcacheCount(h, tc, tcIdx) < h.g[G.TcacheCount] && (tcVictim = bk(h, bin)) !== bin) {
          if (tcVictim !== 0) {
            const b2 = bk(h, tcVictim);
            setInuseBitAtOffset(h, tcVictim, nb);
            if (nonMain) setNonMainArena(h, tcVictim);
            setBk(h, bin, b2);
            setFd(h, b2, bin);
            tcachePut(h, tcVictim, tcIdx);
          }
        }
      }
      const p = victim + 16;
      allocPerturb(h, p, bytes);
      return p;
    }
  } else {
    idx = largebinIndex(nb);
    if (haveFastchunks(h, av)) mallocConsolidate(h, av);
  }

  let tcacheNb = 0;
  const tcIdx = csize2tidx(nb);
  if (tc !== 0 && tcIdx < h.g[G.TcacheBins]) tcacheNb = nb;
  let returnCached = false;
  let tcacheUnsortedCount = 0;
  const unsorted = unsortedChunks(av);

  for (;;) {
    let iters = 0;
    let victim: number;
    while ((victim = bk(h, unsorted)) !== unsorted) {
      let bck = bk(h, victim);
      let size = h.chunksize(victim);
      const next = victim + size;
      const sysMem = systemMem(h, av);
      if (size <= CHUNK_HDR_SZ || size > sysMem) malloc_printerr('malloc(): invalid size (unsorted)');
      const nextNomask = h.sizeNomask(next);
      if (nextNomask < CHUNK_HDR_SZ || nextNomask > sysMem) malloc_printerr('malloc(): invalid next size (unsorted)');
      // prev_size (next) & ~(SIZE_BITS)
      if (m.rdSize(next) !== size) malloc_printerr('malloc(): mismatching next->prev_size (unsorted)');
      if (fd(h, bck) !== victim || fd(h, victim) !== unsorted) malloc_printerr('malloc(): unsorted double linked list corrupted');
      if ((h.flags(next) & PREV_INUSE) !== 0) malloc_printerr('malloc(): invalid next->prev_inuse (unsorted)');

      if (inSmallbinRange(nb) && bck === unsorted && victim === lastRemainder(h, av) && size > nb + MINSIZE) {
        const remainderSize = size - nb;
        const remainder = victim + nb;
        setBk(h, unsorted, remainder);
        setFd(h, unsorted, remainder);
        setLastRemainder(h, av, remainder);
        setBk(h, remainder, unsorted);
        setFd(h, remainder, unsorted);
        if (!inSmallbinRange(remainderSize)) {
          setFdNextsize(h, remainder, 0);
          setBkNextsize(h, remainder, 0);
        }
        setHead(h, victim, nb + PREV_INUSE + nonMain);
        setHead(h, remainder, remainderSize + PREV_INUSE);
        setFoot(h, remainder, remainderSize);
        const p = victim + 16;
        allocPerturb(h, p, bytes);
        return p;
      }

      if (fd(h, bck) !== victim) malloc_printerr('malloc(): corrupted unsorted chunks 3');
      setBk(h, unsorted, bck);
      setFd(h, bck, unsorted);

      if (size === nb) {
        setInuseBitAtOffset(h, victim, size);
        if (nonMain) setNonMainArena(h, victim);
        if (tcacheNb !== 0 && tcacheCount(h, tc, tcIdx) < h.g[G.TcacheCount]) {
          tcachePut(h, victim, tcIdx);
          returnCached = true;
          continue;
        }
        const p = victim + 16;
        allocPerturb(h, p, bytes);
        return p;
      }

      let victimIndex: number;
      let fwd: number;
      if (inSmallbinRange(size)) {
        victimIndex = smallbinIndex(size);
        bck = binAt(av, victimIndex);
        fwd = fd(h, bck);
      } else {
        victimIndex = largebinIndex(size);
        bck = binAt(av, victimIndex);
        fwd = fd(h, bck);
        if (fwd !== bck) {
          size += PREV_INUSE;
          if (size < h.sizeNomask(bk(h, bck))) {
            fwd = bck;
            bck = bk(h, bck);
            const first = fd(h, fwd);
            setFdNextsize(h, victim, first);
            setBkNextsize(h, victim, bkNextsize(h, first));
            setBkNextsize(h, first, victim);
            setFdNextsize(h, bkNextsize(h, victim), victim);
          } else {
            let steps = 0;
            const bound = systemMem(h, av) / 16 + 2;
            while (size < h.sizeNomask(fwd)) {
              if (++steps > bound) throw new MallocHang('_int_malloc');
              fwd = fdNextsize(h, fwd);
            }
            if (size === h.sizeNomask(fwd)) {
              fwd = fd(h, fwd);
            } else {
              setFdNextsize(h, victim, fwd);
              setBkNextsize(h, victim, bkNextsize(h, fwd));
              if (fdNextsize(h, bkNextsize(h, fwd)) !== fwd) malloc_printerr('malloc(): largebin double linked list corrupted (nextsize)');
              setBkNextsize(h, fwd, victim);
              setFdNextsize(h, bkNextsize(h, victim), victim);
            }
            bck = bk(h, fwd);
            if (fd(h, bck) !== fwd) malloc_printerr('malloc(): largebin double linked list corrupted (bk)');
          }
        } else {
          setFdNextsize(h, victim, victim);
          setBkNextsize(h, victim, victim);
        }
      }
      markBin(h, av, victimIndex);
      setBk(h, victim, bck);
      setFd(h, victim, fwd);
      setBk(h, fwd, victim);
      setFd(h, bck, victim);

      ++tcacheUnsortedCount;
      const limit = h.g[G.TcacheUnsortedLimit];
      if (returnCached && limit > 0 && tcacheUnsortedCount > limit) return tcacheGet(h, tcIdx);

      if (++iters >= MAX_ITERS) break;
    }

    if (returnCached) return tcacheGet(h, tcIdx);

    // Large request: best fit in its own bin, through the nextsize skip list.
    if (!inSmallbinRange(nb)) {
      const bin = binAt(av, idx);
      let v = fd(h, bin);
      if (v !== bin && h.sizeNomask(v) >= nb) {
        v = bkNextsize(h, v);
        let size: number;
        let steps = 0;
        const bound = systemMem(h, av) / 16 + 2;
        while ((size = h.chunksize(v)) < nb) {
          if (++steps > bound) throw new MallocHang('_int_malloc');
          v = bkNextsize(h, v);
        }
        if (v !== bk(h, bin) && h.sizeNomask(v) === h.sizeNomask(fd(h, v))) v = fd(h, v);
        const remainderSize = size - nb;
        unlinkChunk(h, av, v);
        if (remainderSize < MINSIZE) {
          setInuseBitAtOffset(h, v, size);
          if (nonMain) setNonMainArena(h, v);
        } else {
          const remainder = v + nb;
          const b = unsorted;
          const f = fd(h, b);
          if (bk(h, f) !== b) malloc_printerr('malloc(): corrupted unsorted chunks');
          setBk(h, remainder, b);
          setFd(h, remainder, f);
          setFd(h, b, remainder);
          setBk(h, f, remainder);
          if (!inSmallbinRange(remainderSize)) {
            setFdNextsize(h, remainder, 0);
            setBkNextsize(h, remainder, 0);
          }
          setHead(h, v, nb + PREV_INUSE + nonMain);
          setHead(h, remainder, remainderSize + PREV_INUSE);
          setFoot(h, remainder, remainderSize);
        }
        const p = v + 16;
        allocPerturb(h, p, bytes);
        return p;
      }
    }

    // Binmap search of the next larger bins.
    ++idx;
    let bin = binAt(av, idx);
    let block = idx >>> 5;
    let map = binmapWord(h, av, block);
    let bit = (1 << (idx & 31)) >>> 0;
    let useTop = false;
    for (;;) {
      if (bit > map || bit === 0) {
        do {
          if (++block >= BINMAPSIZE) {
            useTop = true;
            break;
          }
        } while ((map = binmapWord(h, av, block)) === 0);
        if (useTop) break;
        bin = binAt(av, block << 5);
        bit = 1;
      }
      while ((bit & map) === 0) {
        bin += 16;
        bit = (bit << 1) >>> 0;
      }
      const v = bk(h, bin);
      if (v === bin) {
        map = (map & ~bit) >>> 0;
        setBinmapWord(h, av, block, map);
        bin += 16;
        bit = (bit << 1) >>> 0;
      } else {
        const size = h.chunksize(v);
        const remainderSize = size - nb;
        unlinkChunk(h, av, v);
        if (remainderSize < MINSIZE) {
          setInuseBitAtOffset(h, v, size);
          if (nonMain) setNonMainArena(h, v);
        } else {
          const remainder = v + nb;
          const b = unsorted;
          const f = fd(h, b);
          if (bk(h, f) !== b) malloc_printerr('malloc(): corrupted unsorted chunks 2');
          setBk(h, remainder, b);
          setFd(h, remainder, f);
          setFd(h, b, remainder);
          setBk(h, f, remainder);
          if (inSmallbinRange(nb)) setLastRemainder(h, av, remainder);
          if (!inSmallbinRange(remainderSize)) {
            setFdNextsize(h, remainder, 0);
            setBkNextsize(h, remainder, 0);
          }
          setHead(h, v, nb + PREV_INUSE + nonMain);
          setHead(h, remainder, remainderSize + PREV_INUSE);
          setFoot(h, remainder, remainderSize);
        }
        const p = v + 16;
        allocPerturb(h, p, bytes);
        return p;
      }
    }

    // use_top:
    const t = top(h, av);
    const size = h.chunksize(t);
    if (size > systemMem(h, av)) malloc_printerr('malloc(): corrupted top size');
    if (size >= nb + MINSIZE) {
      const remainderSize = size - nb;
      const remainder = t + nb;
      setTop(h, av, remainder);
      setHead(h, t, nb + PREV_INUSE + nonMain);
      setHead(h, remainder, remainderSize + PREV_INUSE);
      const p = t + 16;
      allocPerturb(h, p, bytes);
      return p;
    } else if (haveFastchunks(h, av)) {
      mallocConsolidate(h, av);
      idx = inSmallbinRange(nb) ? smallbinIndex(nb) : largebinIndex(nb);
    } else {
      const p = sysmalloc(h, nb, av);
      if (p !== 0) allocPerturb(h, p, bytes);
      return p;
    }
  }
}
