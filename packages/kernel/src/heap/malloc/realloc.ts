// malloc/malloc.c: _int_realloc() (shrink in place, grow into top or a free neighbour, or
// allocate-copy-free) and _int_memalign().
import {
  CHUNK_HDR_SZ,
  checkedRequest2size,
  IS_MMAPPED,
  MALLOC_ALIGN_MASK,
  MINSIZE,
  NON_MAIN_ARENA,
  PREV_INUSE,
  PTRDIFF_LIMIT,
  SIZE_SZ,
} from '../constants.js';
import { MAIN_ARENA, type HeapProcess } from '../process.js';
import {
  inuse,
  malloc_printerr,
  prevSize,
  setHead,
  setHeadSize,
  setInuseBitAtOffset,
  setPrevSize,
  setTop,
  systemMem,
  top,
  unlinkChunk,
} from './arena-state.js';
import { intFree } from './int-free.js';
import { intMalloc } from './int-malloc.js';

/** _int_realloc(av, oldp, oldsize, nb): the new user pointer or 0. */
export function intRealloc(h: HeapProcess, av: number, oldp: number, oldsize: number, nb: number): number {
  const nonMain = av !== MAIN_ARENA ? NON_MAIN_ARENA : 0;
  if (h.sizeNomask(oldp) <= CHUNK_HDR_SZ || oldsize >= systemMem(h, av)) malloc_printerr('realloc(): invalid old size');
  const next = oldp + oldsize;
  const nextsize = h.chunksize(next);
  if (h.sizeNomask(next) <= CHUNK_HDR_SZ || nextsize >= systemMem(h, av)) malloc_printerr('realloc(): invalid next size');

  let newp: number;
  let newsize: number;
  if (oldsize >= nb) {
    newp = oldp;
    newsize = oldsize;
  } else {
    const t = top(h, av);
    if (next === t && (newsize = oldsize + nextsize) >= nb + MINSIZE) {
      setHeadSize(h, oldp, nb + nonMain);
      setTop(h, av, oldp + nb);
      setHead(h, oldp + nb, newsize - nb + PREV_INUSE);
      return oldp + CHUNK_HDR_SZ;
    } else if (next !== t && !inuse(h, next) && (newsize = oldsize + nextsize) >= nb) {
      newp = oldp;
      unlinkChunk(h, av, next);
    } else {
      const newmem = intMalloc(h, av, nb - MALLOC_ALIGN_MASK);
      if (newmem === 0) return 0;
      newp = newmem - CHUNK_HDR_SZ;
      newsize = h.chunksize(newp);
      if (newp === next) {
        newsize += oldsize;
        newp = oldp;
      } else {
        const oldmem = oldp + CHUNK_HDR_SZ;
        const sz = oldsize - CHUNK_HDR_SZ + SIZE_SZ; // memsize(oldp)
        h.mem.copy(newmem, oldmem, sz);
        intFree(h, av, oldp, true);
        return newmem;
      }
    }
  }

  const remainderSize = newsize - nb;
  if (remainderSize < MINSIZE) {
    setHeadSize(h, newp, newsize + nonMain);
    setInuseBitAtOffset(h, newp, newsize);
  } else {
    const remainder = newp + nb;
    setHeadSize(h, newp, nb + nonMain);
    setHead(h, remainder, remainderSize + PREV_INUSE + nonMain);
    setInuseBitAtOffset(h, remainder, remainderSize);
    intFree(h, av, remainder, true);
  }
  return newp + CHUNK_HDR_SZ;
}

/** _int_memalign(av, alignment, bytes): alignment is a power of two > MINSIZE/2. */
export function intMemalign(h: HeapProcess, av: number, alignment: number, bytes: number): number {
  const nonMain = av !== MAIN_ARENA ? NON_MAIN_ARENA : 0;
  const nb = checkedRequest2size(bytes);
  if (nb === 0 || alignment >= PTRDIFF_LIMIT) return 0;
  const m = intMalloc(h, av, nb + alignment + MINSIZE);
  if (m === 0) return 0;
  let p = m - CHUNK_HDR_SZ;
  if (m % alignment !== 0) {
    let brk = m + alignment - 1;
    brk = brk - (brk % alignment) - CHUNK_HDR_SZ;
    if (brk - p < MINSIZE) brk += alignment;
    const newp = brk;
    const leadsize = brk - p;
    const newsize = h.chunksize(p) - leadsize;
    if ((h.flags(p) & IS_MMAPPED) !== 0) {
      setPrevSize(h, newp, prevSize(h, p) + leadsize);
      setHead(h, newp, newsize + IS_MMAPPED);
      h.mappings.setAux(newp, newp);
      return newp + CHUNK_HDR_SZ;
    }
    setHead(h, newp, newsize + PREV_INUSE + nonMain);
    setInuseBitAtOffset(h, newp, newsize);
    setHeadSize(h, p, leadsize + nonMain);
    intFree(h, av, p, true);
    p = newp;
  }
  if ((h.flags(p) & IS_MMAPPED) === 0) {
    const size = h.chunksize(p);
    if (size > nb + MINSIZE) {
      const remainderSize = size - nb;
      const remainder = p + nb;
      setHead(h, remainder, remainderSize + PREV_INUSE + nonMain);
      setHeadSize(h, p, nb);
      intFree(h, av, remainder, true);
    }
  }
  return p + CHUNK_HDR_SZ;
}
