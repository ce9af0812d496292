// malloc/malloc.c: the do_set_*() helpers shared by mallopt() and the tunables, and
// __libc_mallopt(). Values arrive as glibc receives them: mallopt's int converted to size_t
// (a negative int becomes 2^64 + value) where the helper takes a size_t.
import { csize2tidx, MAX_FAST_SIZE, MAX_TCACHE_COUNT, MAX_TCACHE_SIZE, maxFastFor, request2size } from '../constants.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';
import { mallocConsolidate } from './int-free.js';

export const M_MXFAST = 1;
export const M_TRIM_THRESHOLD = -1;
export const M_TOP_PAD = -2;
export const M_MMAP_THRESHOLD = -3;
export const M_MMAP_MAX = -4;
export const M_CHECK_ACTION = -5;
export const M_PERTURB = -6;
export const M_ARENA_TEST = -7;
export const M_ARENA_MAX = -8;

/** (size_t) of a C int. */
export const sizeT = (v: number): number => (v < 0 ? 2 ** 64 + v : v);

export function doSetTrimThreshold(h: HeapProcess, value: number): number {
  h.set(G.TrimThreshold, value);
  h.set(G.NoDynThreshold, 1);
  return 1;
}
export function doSetTopPad(h: HeapProcess, value: number): number {
  h.set(G.TopPad, value);
  h.set(G.NoDynThreshold, 1);
  return 1;
}
export function doSetMmapThreshold(h: HeapProcess, value: number): number {
  h.set(G.MmapThreshold, value);
  h.set(G.NoDynThreshold, 1);
  return 1;
}
export function doSetMmapsMax(h: HeapProcess, value: number): number {
  h.set(G.NMmapsMax, value);
  h.set(G.NoDynThreshold, 1);
  return 1;
}
export function doSetPerturbByte(h: HeapProcess, value: number): number {
  h.set(G.PerturbByte, value);
  return 1;
}
export function doSetArenaTest(h: HeapProcess, value: number): number {
  h.set(G.ArenaTest, value);
  return 1;
}
export function doSetArenaMax(h: HeapProcess, value: number): number {
  h.set(G.ArenaMax, value);
  return 1;
}
export function doSetTcacheMax(h: HeapProcess, value: number): number {
  if (value <= MAX_TCACHE_SIZE) {
    h.set(G.TcacheMaxBytes, value);
    h.set(G.TcacheBins, csize2tidx(request2size(value)) + 1);
    return 1;
  }
  return 0;
}
export function doSetTcacheCount(h: HeapProcess, value: number): number {
  if (value <= MAX_TCACHE_COUNT) {
    h.set(G.TcacheCount, value);
    return 1;
  }
  return 0;
}
export function doSetTcacheUnsortedLimit(h: HeapProcess, value: number): number {
  h.set(G.TcacheUnsortedLimit, value);
  return 1;
}
export function doSetMxfast(h: HeapProcess, value: number): number {
  if (value <= MAX_FAST_SIZE) {
    h.set(G.GlobalMaxFast, maxFastFor(value));
    return 1;
  }
  return 0;
}
/** glibc.malloc.hugetlb: 1 uses THP through madvise when the kernel is in madvise mode. */
export function doSetHugetlb(h: HeapProcess, value: number): number {
  if (value === 1) {
    if (h.config.thpMode === 'madvise') h.set(G.ThpPagesize, 2 * 1024 * 1024);
  }
  // Values >= 2 ask for MAP_HUGETLB pages; the simulated machine has no hugetlbfs pool, so
  // __malloc_hugepage_config finds no page size and nothing changes.
  return 0;
}

/** __libc_mallopt(param, value) after ptmalloc_init: consolidates the main arena first. */
export function mallopt(h: HeapProcess, param: number, value: number): number {
  let res = 1;
  mallocConsolidate(h, MAIN_ARENA);
  switch (param) {
    case M_MXFAST:
      res = doSetMxfast(h, sizeT(value));
      break;
    case M_TRIM_THRESHOLD:
      res = doSetTrimThreshold(h, sizeT(value));
      break;
    case M_TOP_PAD:
      res = doSetTopPad(h, sizeT(value));
      break;
    case M_MMAP_THRESHOLD:
      res = doSetMmapThreshold(h, sizeT(value));
      break;
    case M_MMAP_MAX:
      res = doSetMmapsMax(h, value);
      break;
    case M_CHECK_ACTION:
      res = 1;
      break;
    case M_PERTURB:
      res = doSetPerturbByte(h, value);
      break;
    case M_ARENA_TEST:
      if (value > 0) res = doSetArenaTest(h, sizeT(value));
      break;
    case M_ARENA_MAX:
      if (value > 0) res = doSetArenaMax(h, sizeT(value));
      break;
    default:
      break;
  }
  return res;
}
