// malloc/malloc.c: sysmalloc() (mmapped chunks, brk growth with the second sbrk, the mmap
// fallback, growing or adding a heap of a thread arena), systrim(), munmap_chunk(),
// mremap_chunk(), madvise_thp().
import { MREMAP_MAYMOVE } from '../../contracts/heap-sys.js';
import {
  alignUpTo,
  CHUNK_HDR_SZ,
  HEAP_INFO_SIZE,
  HI_SIZE,
  IS_MMAPPED,
  MINSIZE,
  MMAP_AS_MORECORE_SIZE,
  NON_MAIN_ARENA,
  PAGESIZE,
  powerof2,
  PREV_INUSE,
  SIZE_SZ,
} from '../constants.js';
import { MapUse } from '../memory/mappings.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';
import {
  contiguous,
  malloc_printerr,
  maxSystemMem,
  prevSize,
  setFoot,
  setHead,
  setMaxSystemMem,
  setNoncontiguous,
  setPrevSize,
  setSystemMem,
  setTop,
  systemMem,
  top,
} from './arena-state.js';
import { growHeap, heapForPtr, newHeap } from './heap.js';
import { intFree } from './int-free.js';

const MAP_FAILED = -1;
const PROT_RW = 3;
const MAP_HUGETLB = 0x40000;
const MADV_HUGEPAGE = 14;

/** madvise_thp(p, size): MADV_HUGEPAGE when glibc.malloc.hugetlb=1 found THP in madvise mode. */
export function madviseThp(h: HeapProcess, p: number, size: number): void {
  const thp = h.g[G.ThpPagesize];
  if (thp === 0 || size < thp) return;
  if (p % PAGESIZE !== 0) {
    const q = p - (p % PAGESIZE);
    size += p - q;
    p = q;
  }
  h.madvise(p, size, MADV_HUGEPAGE);
}

/** sysmalloc_mmap(): a chunk of its own mapping; the user pointer or MAP_FAILED. */
function sysmallocMmap(h: HeapProcess, nb: number, pagesize: number, extraFlags: number): number {
  const size = alignUpTo(nb + SIZE_SZ, pagesize);
  if (size <= nb) return MAP_FAILED;
  const mm = h.mmap(0, size, PROT_RW, extraFlags, MapUse.Chunk);
  if (h.isMapFailed(mm)) return MAP_FAILED;
  if ((extraFlags & MAP_HUGETLB) === 0) madviseThp(h, mm, size);
  h.mappings.setAux(mm, mm);
  setPrevSize(h, mm, 0);
  setHead(h, mm, size + IS_MMAPPED);
  const n = h.g[G.NMmaps] + 1;
  h.set(G.NMmaps, n);
  if (n > h.g[G.MaxNMmaps]) h.set(G.MaxNMmaps, n);
  const sum = h.g[G.MmappedMem] + size;
  h.set(G.MmappedMem, sum);
  if (sum > h.g[G.MaxMmappedMem]) h.set(G.MaxMmappedMem, sum);
  return mm + CHUNK_HDR_SZ;
}

/** sysmalloc_mmap_fallback(): mmap standing in for a failed brk. `size` in/out through box[0]. */
function sysmallocMmapFallback(h: HeapProcess, box: number[], nb: number, oldSize: number, minsize: number, pagesize: number, extraFlags: number, av: number): number {
  let size = box[0];
  if (contiguous(h, av)) size = alignUpTo(size + oldSize, pagesize);
  if (size < minsize) size = minsize;
  if (size <= nb) return 0; // MORECORE_FAILURE, which the caller does not take for MAP_FAILED
  const mbrk = h.mmap(0, size, PROT_RW, extraFlags, MapUse.Fallback);
  if (h.isMapFailed(mbrk)) return MAP_FAILED;
  if ((extraFlags & MAP_HUGETLB) === 0) madviseThp(h, mbrk, size);
  setNoncontiguous(h, av);
  box[0] = size;
  return mbrk;
}

/** sysmalloc(nb, av): more memory from the system; a user pointer or 0. */
export function sysmalloc(h: HeapProcess, nb: number, av: number): number {
  const pagesize = PAGESIZE;
  let triedMmap = false;
  if (av === 0 || (nb >= h.g[G.MmapThreshold] && h.g[G.NMmaps] < h.g[G.NMmapsMax])) {
    const hp = h.g[G.HpPagesize];
    if (hp > 0 && nb >= hp) {
      const mm = sysmallocMmap(h, nb, hp, h.g[G.HpFlags]);
      if (mm !== MAP_FAILED) return mm;
    }
    const mm = sysmallocMmap(h, nb, pagesize, 0);
    if (mm !== MAP_FAILED) return mm;
    triedMmap = true;
  }
  if (av === 0) return 0;

  const oldTop = top(h, av);
  let oldSize = h.chunksize(oldTop);
  const oldEnd = oldTop + oldSize;
  let brk = 0;
  let sndBrk = 0;

  if (av !== MAIN_ARENA) {
    const oldHeap = heapForPtr(oldTop);
    const oldHeapSize = h.mem.rd(oldHeap + HI_SIZE);
    let heap: number;
    if (MINSIZE + nb - oldSize > 0 && growHeap(h, oldHeap, MINSIZE + nb - oldSize) === 0) {
      const hs = h.mem.rd(oldHeap + HI_SIZE);
      setSystemMem(h, av, systemMem(h, av) + hs - oldHeapSize);
      setHead(h, oldTop, oldHeap + hs - oldTop + PREV_INUSE);
    } else if ((heap = newHeap(h, nb + (MINSIZE + HEAP_INFO_SIZE), h.g[G.TopPad])) !== 0) {
      h.mem.wr(heap, av);
      h.mem.wr(heap + 8, oldHeap);
      const hs = h.mem.rd(heap + HI_SIZE);
      setSystemMem(h, av, systemMem(h, av) + hs);
      const t = heap + HEAP_INFO_SIZE;
      setTop(h, av, t);
      setHead(h, t, hs - HEAP_INFO_SIZE + PREV_INUSE);
      oldSize = (oldSize - MINSIZE) - ((oldSize - MINSIZE) % 16);
      setHead(h, oldTop + oldSize + CHUNK_HDR_SZ, 0 + PREV_INUSE);
      if (oldSize >= MINSIZE) {
        setHead(h, oldTop + oldSize, CHUNK_HDR_SZ + PREV_INUSE);
        setFoot(h, oldTop + oldSize, CHUNK_HDR_SZ);
        setHead(h, oldTop, oldSize + PREV_INUSE + NON_MAIN_ARENA);
        intFree(h, av, oldTop, true);
      } else {
        setHead(h, oldTop, oldSize + CHUNK_HDR_SZ + PREV_INUSE);
        setFoot(h, oldTop, oldSize + CHUNK_HDR_SZ);
      }
    } else if (!triedMmap) {
      const mm = sysmallocMmap(h, nb, pagesize, 0);
      if (mm !== MAP_FAILED) return mm;
    }
  } else {
    let size = nb + h.g[G.TopPad] + MINSIZE;
    if (contiguous(h, av)) size -= oldSize;
    const thp = h.g[G.ThpPagesize];
    if (thp !== 0) {
      const cur = h.g[G.Curbrk];
      size = alignUpTo(cur + size, thp) - cur;
    } else size = alignUpTo(size, pagesize);
    if (size > 0) {
      brk = h.morecore(size);
      if (brk !== 0) madviseThp(h, brk, size);
    }
    if (brk === 0) {
      let mbrk = MAP_FAILED;
      const box = [size];
      const hp = h.g[G.HpPagesize];
      if (hp > 0) mbrk = sysmallocMmapFallback(h, box, nb, oldSize, hp, hp, h.g[G.HpFlags], av);
      if (mbrk === MAP_FAILED) mbrk = sysmallocMmapFallback(h, box, nb, oldSize, pagesize, MMAP_AS_MORECORE_SIZE, 0, av);
      size = box[0];
      if (mbrk !== MAP_FAILED) {
        brk = mbrk;
        sndBrk = brk + size;
      }
    }
    if (brk !== 0) {
      if (h.g[G.SbrkBase] === 0) h.set(G.SbrkBase, brk);
      setSystemMem(h, av, systemMem(h, av) + size);
      if (brk === oldEnd && sndBrk === 0) {
        setHead(h, oldTop, size + oldSize + PREV_INUSE);
      } else if (contiguous(h, av) && oldSize !== 0 && brk < oldEnd) {
        malloc_printerr('break adjusted to free malloc space');
      } else {
        let correction = 0;
        let alignedBrk = brk;
        if (contiguous(h, av)) {
          if (oldSize !== 0) setSystemMem(h, av, systemMem(h, av) + brk - oldEnd);
          const frontMisalign = (brk + CHUNK_HDR_SZ) % 16;
          if (frontMisalign > 0) {
            correction = 16 - frontMisalign;
            alignedBrk += correction;
          }
          correction += oldSize;
          const endMisalign = brk + size + correction;
          correction += alignUpTo(endMisalign, pagesize) - endMisalign;
          sndBrk = h.morecore(correction);
          if (sndBrk === 0) {
            correction = 0;
            sndBrk = h.morecore(0);
          } else madviseThp(h, sndBrk, correction);
        } else if (sndBrk === 0) {
          sndBrk = h.morecore(0);
        }
        if (sndBrk !== 0) {
          setTop(h, av, alignedBrk);
          setHead(h, alignedBrk, sndBrk - alignedBrk + correction + PREV_INUSE);
          setSystemMem(h, av, systemMem(h, av) + correction);
          if (oldSize !== 0) {
            oldSize = (oldSize - 2 * CHUNK_HDR_SZ) - ((oldSize - 2 * CHUNK_HDR_SZ) % 16);
            setHead(h, oldTop, oldSize + PREV_INUSE);
            setHead(h, oldTop + oldSize, CHUNK_HDR_SZ + PREV_INUSE);
            setHead(h, oldTop + oldSize + CHUNK_HDR_SZ, CHUNK_HDR_SZ + PREV_INUSE);
            if (oldSize >= MINSIZE) intFree(h, av, oldTop, true);
          }
        }
      }
    }
  }

  const sm = systemMem(h, av);
  if (sm > maxSystemMem(h, av)) setMaxSystemMem(h, av, sm);

  const p = top(h, av);
  const size = h.chunksize(p);
  if (size >= nb + MINSIZE) {
    const remainderSize = size - nb;
    const remainder = p + nb;
    setTop(h, av, remainder);
    setHead(h, p, nb + PREV_INUSE + (av !== MAIN_ARENA ? NON_MAIN_ARENA : 0));
    setHead(h, remainder, remainderSize + PREV_INUSE);
    return p + CHUNK_HDR_SZ;
  }
  return 0;
}

/** systrim(pad, av): gives the top's free pages back with a negative sbrk; 1 if it did. */
export function systrim(h: HeapProcess, pad: number, av: number): number {
  const t = top(h, av);
  const topSize = h.chunksize(t);
  const topArea = topSize - MINSIZE - 1;
  let extra: number;
  // top_area is a long compared with and subtracted from a size_t.
  if (topArea >= 0) {
    if (topArea <= pad) return 0;
    const thp = h.g[G.ThpPagesize];
    const unit = thp !== 0 ? thp : PAGESIZE;
    extra = topArea - pad - ((topArea - pad) % unit);
  } else {
    if (2 ** 64 + topArea <= pad) return 0;
    extra = -alignUpTo(pad - topArea, PAGESIZE);
  }
  if (extra === 0) return 0;
  const currentBrk = h.morecore(0);
  if (currentBrk === t + topSize) {
    h.morecore(-extra);
    const newBrk = h.morecore(0);
    if (newBrk !== 0) {
      const released = currentBrk - newBrk;
      if (released !== 0) {
        setSystemMem(h, av, systemMem(h, av) - released);
        setHead(h, t, topSize - released + PREV_INUSE);
        return 1;
      }
    }
  }
  return 0;
}

/** munmap_chunk(p) */
export function munmapChunk(h: HeapProcess, p: number): void {
  const size = h.chunksize(p);
  const mem = p + CHUNK_HDR_SZ;
  const ps = prevSize(h, p);
  const block = p - ps;
  const total = ps + size;
  if (block % PAGESIZE !== 0 || total % PAGESIZE !== 0 || !powerof2(mem % PAGESIZE)) malloc_printerr('munmap_chunk(): invalid pointer');
  h.set(G.NMmaps, h.g[G.NMmaps] - 1);
  h.set(G.MmappedMem, h.g[G.MmappedMem] - total);
  h.munmap(block, total);
}

/** mremap_chunk(p, new_size): the moved chunk, or 0 when mremap failed. */
export function mremapChunk(h: HeapProcess, p: number, newSize: number): number {
  const offset = prevSize(h, p);
  const size = h.chunksize(p);
  const block = p - offset;
  const mem = p + CHUNK_HDR_SZ;
  const total = offset + size;
  if (block % PAGESIZE !== 0 || total % PAGESIZE !== 0 || !powerof2(mem % PAGESIZE)) malloc_printerr('mremap_chunk(): invalid pointer');
  newSize = alignUpTo(newSize + offset + SIZE_SZ, PAGESIZE);
  if (total === newSize) return p;
  const cp = h.mremap(block, total, newSize, MREMAP_MAYMOVE);
  if (h.isMapFailed(cp)) return 0;
  madviseThp(h, cp, newSize);
  const np = cp + offset;
  setHead(h, np, newSize - offset + IS_MMAPPED);
  const n = h.g[G.MmappedMem] + newSize - size - offset;
  h.set(G.MmappedMem, n);
  if (n > h.g[G.MaxMmappedMem]) h.set(G.MaxMmappedMem, n);
  return np;
}

