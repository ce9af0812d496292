// malloc/arena.c: the mmapped heaps of thread arenas. Each is HEAP_MAX_SIZE (64 MiB) aligned,
// made PROT_NONE and opened with mprotect as it grows. alloc_new_heap(), grow_heap(),
// shrink_heap(), heap_trim(), heap_for_ptr().
import {
  alignUpTo,
  HEAP_INFO_SIZE,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  HI_AR_PTR,
  HI_MPROTECT_SIZE,
  HI_PAGESIZE,
  HI_PREV,
  HI_SIZE,
  MINSIZE,
  PAGESIZE,
  PREV_INUSE,
} from '../constants.js';
import { MapUse } from '../memory/mappings.js';
import { G, type HeapProcess } from '../process.js';
import { prevSize, setHead, setSystemMem, setTop, systemMem, top, unlinkChunk } from './arena-state.js';
import { madviseThp } from './sysmalloc.js';

const MAP_NORESERVE = 0x4000;
const PROT_NONE = 0;
const PROT_RW = 3;
const MADV_DONTNEED = 4;

/** heap_for_ptr(ptr): the heap_info at the 64 MiB boundary below ptr. */
export const heapForPtr = (ptr: number): number => ptr - (ptr % HEAP_MAX_SIZE);

export const heapSize = (h: HeapProcess, heap: number): number => h.mem.rd(heap + HI_SIZE);
export const heapPrev = (h: HeapProcess, heap: number): number => h.mem.rd(heap + HI_PREV);
export const heapArena = (h: HeapProcess, heap: number): number => h.mem.rd(heap + HI_AR_PTR);

/** new_heap(size, top_pad) (alloc_new_heap with the system page size): the heap, or 0. */
export function newHeap(h: HeapProcess, size: number, topPad: number): number {
  const pagesize = PAGESIZE;
  const minSize = HEAP_MIN_SIZE;
  const maxSize = HEAP_MAX_SIZE;
  if (size + topPad < minSize) size = minSize;
  else if (size + topPad <= maxSize) size += topPad;
  else if (size > maxSize) return 0;
  else size = maxSize;
  size = alignUpTo(size, pagesize);

  let p2 = -1;
  const area = h.g[G.AlignedHeapArea];
  if (area !== 0) {
    p2 = h.mmap(area, maxSize, PROT_NONE, MAP_NORESERVE, MapUse.ArenaHeap);
    h.set(G.AlignedHeapArea, 0);
    if (p2 >= 0 && p2 % maxSize !== 0) {
      h.munmap(p2, maxSize);
      p2 = -1;
    }
  }
  if (p2 < 0) {
    const p1 = h.mmap(0, maxSize * 2, PROT_NONE, MAP_NORESERVE, MapUse.ArenaHeap);
    if (p1 >= 0) {
      p2 = alignUpTo(p1, maxSize);
      const ul = p2 - p1;
      if (ul !== 0) h.munmap(p1, ul);
      else h.set(G.AlignedHeapArea, p2 + maxSize);
      h.munmap(p2 + maxSize, maxSize - ul);
    } else {
      p2 = h.mmap(0, maxSize, PROT_NONE, MAP_NORESERVE, MapUse.ArenaHeap);
      if (p2 < 0) return 0;
      if (p2 % maxSize !== 0) {
        h.munmap(p2, maxSize);
        return 0;
      }
    }
  }
  if (h.mprotect(p2, size, PROT_RW) !== 0) {
    h.munmap(p2, maxSize);
    return 0;
  }
  madviseThp(h, p2, size);
  h.mem.wr(p2 + HI_SIZE, size);
  h.mem.wr(p2 + HI_MPROTECT_SIZE, size);
  h.mem.wr(p2 + HI_PAGESIZE, pagesize);
  return p2;
}

/** grow_heap(heap, diff): 0, or -1 past HEAP_MAX_SIZE, -2 when mprotect failed. */
export function growHeap(h: HeapProcess, heap: number, diff: number): number {
  const pagesize = h.mem.rd(heap + HI_PAGESIZE);
  diff = alignUpTo(diff, pagesize);
  const newSize = heapSize(h, heap) + diff;
  if (newSize > HEAP_MAX_SIZE) return -1;
  const mp = h.mem.rd(heap + HI_MPROTECT_SIZE);
  if (newSize > mp) {
    if (h.mprotect(heap + mp, newSize - mp, PROT_RW) !== 0) return -2;
    h.mem.wr(heap + HI_MPROTECT_SIZE, newSize);
  }
  h.mem.wr(heap + HI_SIZE, newSize);
  return 0;
}

/** check_may_shrink_heap(): vm.overcommit_memory == 2 (or a secure exec), read once. */
function mayShrinkHeap(h: HeapProcess): boolean {
  let v = h.g[G.MayShrinkHeap];
  if (v < 0) {
    v = h.config.secure || h.config.overcommitMemory === 2 ? 1 : 0;
    h.set(G.MayShrinkHeap, v);
  }
  return v === 1;
}

/** shrink_heap(heap, diff) */
export function shrinkHeap(h: HeapProcess, heap: number, diff: number): number {
  const newSize = heapSize(h, heap) - diff;
  if (newSize < HEAP_INFO_SIZE) return -1;
  if (mayShrinkHeap(h)) {
    if (h.mmapFixedNone(heap + newSize, diff) < 0) return -2;
    h.mem.wr(heap + HI_MPROTECT_SIZE, newSize);
  } else {
    h.madvise(heap + newSize, diff, MADV_DONTNEED);
  }
  h.mem.wr(heap + HI_SIZE, newSize);
  return 0;
}

/** heap_trim(heap, pad): drops heaps whose only chunk is top, then shrinks the last one. */
export function heapTrim(h: HeapProcess, heap: number, pad: number): number {
  const arPtr = heapArena(h, heap);
  let topChunk = top(h, arPtr);
  const maxSize = HEAP_MAX_SIZE;
  while (topChunk === heap + HEAP_INFO_SIZE) {
    const prevHeap = heapPrev(h, heap);
    const prevSz = heapSize(h, prevHeap) - (MINSIZE - 16);
    let p = prevHeap + prevSz;
    const misalign = p % 16;
    p = prevHeap + prevSz - misalign;
    p = p - prevSize(h, p);
    let newSize = h.chunksize(p) + (MINSIZE - 16) + misalign;
    if ((h.flags(p) & PREV_INUSE) === 0) newSize += prevSize(h, p);
    if (newSize + (maxSize - heapSize(h, prevHeap)) < pad + MINSIZE + h.mem.rd(heap + HI_PAGESIZE)) break;
    setSystemMem(h, arPtr, systemMem(h, arPtr) - heapSize(h, heap));
    if (heap + maxSize === h.g[G.AlignedHeapArea]) h.set(G.AlignedHeapArea, 0);
    h.munmap(heap, maxSize);
    heap = prevHeap;
    if ((h.flags(p) & PREV_INUSE) === 0) {
      p = p - prevSize(h, p);
      unlinkChunk(h, arPtr, p);
    }
    setTop(h, arPtr, p);
    topChunk = p;
    setHead(h, topChunk, newSize + PREV_INUSE);
  }
  const topSize = h.chunksize(topChunk);
  if (topSize < h.g[G.TrimThreshold]) return 0;
  const topArea = topSize - MINSIZE - 1;
  if (topArea < 0 || topArea <= pad) return 0;
  const ps = h.mem.rd(heap + HI_PAGESIZE);
  const extra = topArea - pad - ((topArea - pad) % ps);
  if (extra === 0) return 0;
  if (shrinkHeap(h, heap, extra) !== 0) return 0;
  setSystemMem(h, arPtr, systemMem(h, arPtr) - extra);
  setHead(h, topChunk, topSize - extra + PREV_INUSE);
  return 1;
}

