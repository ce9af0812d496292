// struct malloc_state fields and the bin lists, read and written in the arena's memory.
// malloc/malloc.c: bin_at(), unlink_chunk(), mark_bin(), malloc_init_state().
import {
  C_BK,
  C_BK_NEXTSIZE,
  C_FD,
  C_FD_NEXTSIZE,
  C_PREV_SIZE,
  C_SIZE,
  DEFAULT_MXFAST,
  floorTo,
  inSmallbinRange,
  maxFastFor,
  MS_ATTACHED_THREADS,
  MS_BINMAP,
  MS_BINS,
  MS_FASTBINS,
  MS_FLAGS,
  MS_HAVE_FASTCHUNKS,
  MS_LAST_REMAINDER,
  MS_MAX_SYSTEM_MEM,
  MS_NEXT,
  MS_NEXT_FREE,
  MS_SYSTEM_MEM,
  MS_TOP,
  NBINS,
  NONCONTIGUOUS_BIT,
} from '../constants.js';
import { G, MAIN_ARENA, MallocAbort, type HeapProcess } from '../process.js';

/** bin_at(av, i): the fake chunk whose fd/bk are bins[2i-2], bins[2i-1]. */
export const binAt = (av: number, i: number): number => av + MS_BINS + (i - 1) * 16 - C_FD;
/** The index of the bin whose fake chunk is b. */
export const binIndexOf = (av: number, b: number): number => (b - av - MS_BINS + C_FD) / 16 + 1;
export const unsortedChunks = (av: number): number => binAt(av, 1);
export const fastbinAddr = (av: number, idx: number): number => av + MS_FASTBINS + idx * 8;

export const top = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_TOP);
export const setTop = (h: HeapProcess, av: number, p: number): void => h.mem.wr(av + MS_TOP, p);
export const lastRemainder = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_LAST_REMAINDER);
export const setLastRemainder = (h: HeapProcess, av: number, p: number): void => h.mem.wr(av + MS_LAST_REMAINDER, p);
export const systemMem = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_SYSTEM_MEM);
export const setSystemMem = (h: HeapProcess, av: number, v: number): void => h.mem.wr(av + MS_SYSTEM_MEM, v);
export const maxSystemMem = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_MAX_SYSTEM_MEM);
export const setMaxSystemMem = (h: HeapProcess, av: number, v: number): void => h.mem.wr(av + MS_MAX_SYSTEM_MEM, v);
export const arenaNext = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_NEXT);
export const setArenaNext = (h: HeapProcess, av: number, v: number): void => h.mem.wr(av + MS_NEXT, v);
export const arenaNextFree = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_NEXT_FREE);
export const setArenaNextFree = (h: HeapProcess, av: number, v: number): void => h.mem.wr(av + MS_NEXT_FREE, v);
export const attachedThreads = (h: HeapProcess, av: number): number => h.mem.rd(av + MS_ATTACHED_THREADS);
export const setAttachedThreads = (h: HeapProcess, av: number, v: number): void => h.mem.wr(av + MS_ATTACHED_THREADS, v);

export const contiguous = (h: HeapProcess, av: number): boolean => (h.mem.rd32(av + MS_FLAGS) & NONCONTIGUOUS_BIT) === 0;
export function setNoncontiguous(h: HeapProcess, av: number): void {
  h.mem.wr32(av + MS_FLAGS, h.mem.rd32(av + MS_FLAGS) | NONCONTIGUOUS_BIT);
}
export const haveFastchunks = (h: HeapProcess, av: number): boolean => h.mem.rd32(av + MS_HAVE_FASTCHUNKS) !== 0;
export const setHaveFastchunks = (h: HeapProcess, av: number, v: boolean): void => h.mem.wr32(av + MS_HAVE_FASTCHUNKS, v ? 1 : 0);

export const binmapWord = (h: HeapProcess, av: number, block: number): number => h.mem.rd32(av + MS_BINMAP + block * 4);
export const setBinmapWord = (h: HeapProcess, av: number, block: number, v: number): void => h.mem.wr32(av + MS_BINMAP + block * 4, v >>> 0);
export function markBin(h: HeapProcess, av: number, i: number): void {
  const a = av + MS_BINMAP + (i >>> 5) * 4;
  h.mem.wr32(a, (h.mem.rd32(a) | (1 << (i & 31))) >>> 0);
}

export const fd = (h: HeapProcess, p: number): number => h.mem.rd(p + C_FD);
export const bk = (h: HeapProcess, p: number): number => h.mem.rd(p + C_BK);
export const setFd = (h: HeapProcess, p: number, v: number): void => h.mem.wr(p + C_FD, v);
export const setBk = (h: HeapProcess, p: number, v: number): void => h.mem.wr(p + C_BK, v);
export const fdNextsize = (h: HeapProcess, p: number): number => h.mem.rd(p + C_FD_NEXTSIZE);
export const bkNextsize = (h: HeapProcess, p: number): number => h.mem.rd(p + C_BK_NEXTSIZE);
export const setFdNextsize = (h: HeapProcess, p: number, v: number): void => h.mem.wr(p + C_FD_NEXTSIZE, v);
export const setBkNextsize = (h: HeapProcess, p: number, v: number): void => h.mem.wr(p + C_BK_NEXTSIZE, v);
export const prevSize = (h: HeapProcess, p: number): number => h.mem.rd(p + C_PREV_SIZE);
export const setPrevSize = (h: HeapProcess, p: number, v: number): void => h.mem.wr(p + C_PREV_SIZE, v);
/** set_head(p, s) */
export const setHead = (h: HeapProcess, p: number, s: number): void => h.mem.wr(p + C_SIZE, s);
/** set_foot(p, s) */
export const setFoot = (h: HeapProcess, p: number, s: number): void => h.mem.wr(p + s + C_PREV_SIZE, s);
/** set_head_size(p, s): keeps the flag bits. */
export function setHeadSize(h: HeapProcess, p: number, s: number): void {
  const high = floorTo(s, 8);
  const low = s - high;
  h.mem.wr(p + C_SIZE, high + ((h.mem.rdLo(p + C_SIZE) & 7) | low));
}
/** inuse_bit_at_offset(p, s) */
export const inuseBitAtOffset = (h: HeapProcess, p: number, s: number): boolean => (h.mem.rdLo(p + s + C_SIZE) & 1) !== 0;
export function setInuseBitAtOffset(h: HeapProcess, p: number, s: number): void {
  const a = p + s + C_SIZE;
  h.mem.wrHalves(a, (h.mem.rdLo(a) | 1) >>> 0, h.mem.rdHi(a));
}
export function clearInuseBitAtOffset(h: HeapProcess, p: number, s: number): void {
  const a = p + s + C_SIZE;
  h.mem.wrHalves(a, (h.mem.rdLo(a) & ~1) >>> 0, h.mem.rdHi(a));
}
export function setNonMainArena(h: HeapProcess, p: number): void {
  const a = p + C_SIZE;
  h.mem.wrHalves(a, (h.mem.rdLo(a) | 4) >>> 0, h.mem.rdHi(a));
}
/** inuse(p): the next chunk's PREV_INUSE bit. */
export const inuse = (h: HeapProcess, p: number): boolean => inuseBitAtOffset(h, p, h.chunksize(p));
export const prevInuse = (h: HeapProcess, p: number): boolean => (h.flags(p) & 1) !== 0;
export const chunkIsMmapped = (h: HeapProcess, p: number): boolean => (h.flags(p) & 2) !== 0;
export const chunkMainArena = (h: HeapProcess, p: number): boolean => (h.flags(p) & 4) === 0;

/** malloc_printerr() */
export function malloc_printerr(msg: string): never {
  throw new MallocAbort(msg);
}

/** unlink_chunk(): takes p off its bin list. */
export function unlinkChunk(h: HeapProcess, av: number, p: number): void {
  void av;
  const size = h.chunksize(p);
  if (size !== prevSize(h, p + size)) malloc_printerr('corrupted size vs. prev_size');
  const f = fd(h, p);
  const b = bk(h, p);
  if (bk(h, f) !== p || fd(h, b) !== p) malloc_printerr('corrupted double-linked list');
  setBk(h, f, b);
  setFd(h, b, f);
  if (!inSmallbinRange(h.sizeNomask(p)) && fdNextsize(h, p) !== 0) {
    const pfn = fdNextsize(h, p);
    const pbn = bkNextsize(h, p);
    if (bkNextsize(h, pfn) !== p || fdNextsize(h, pbn) !== p) malloc_printerr('corrupted double-linked list (not small)');
    if (fdNextsize(h, f) === 0) {
      if (pfn === p) {
        setFdNextsize(h, f, f);
        setBkNextsize(h, f, f);
      } else {
        setFdNextsize(h, f, pfn);
        setBkNextsize(h, f, pbn);
        setBkNextsize(h, pfn, f);
        setFdNextsize(h, pbn, f);
      }
    } else {
      setBkNextsize(h, pfn, pbn);
      setFdNextsize(h, pbn, pfn);
    }
  }
}

/** malloc_init_state(): every bin empty, top = the unsorted bin's fake chunk. */
export function mallocInitState(h: HeapProcess, av: number): void {
  for (let i = 1; i < NBINS; i++) {
    const b = binAt(av, i);
    setFd(h, b, b);
    setBk(h, b, b);
  }
  if (av !== MAIN_ARENA) setNoncontiguous(h, av);
  if (av === MAIN_ARENA) h.set(G.GlobalMaxFast, maxFastFor(DEFAULT_MXFAST));
  setHaveFastchunks(h, av, false);
  setTop(h, av, unsortedChunks(av));
}

/** PROTECT_PTR(pos, ptr): (pos >> 12) ^ ptr, as two 32-bit halves written at pos. */
export function storeProtected(h: HeapProcess, pos: number, ptr: number): void {
  const s = Math.floor(pos / 4096);
  const lo = ((s >>> 0) ^ (ptr >>> 0)) >>> 0;
  const hi = ((Math.floor(s / 4294967296) >>> 0) ^ (Math.floor(ptr / 4294967296) >>> 0)) >>> 0;
  h.mem.wrHalves(pos, lo, hi);
}

/**
 * REVEAL_PTR(*pos). A result above 2^53 (a link the program overwrote) comes back inexact but
 * with its low 32 bits in `h.revealedLo`, which is what the alignment checks look at. (The
 * halves are kept on the process, not in module variables: a module variable holding a
 * number above 2^31 costs an allocation per store.)
 */
export function loadRevealed(h: HeapProcess, pos: number): number {
  const s = Math.floor(pos / 4096);
  const m = h.mem;
  m.rdPair(pos);
  const lo = (m.lo ^ (s >>> 0)) >>> 0;
  const hi = (m.hi ^ (Math.floor(s / 4294967296) >>> 0)) >>> 0;
  h.revealedLo = lo;
  h.revealedHi = hi;
  return lo + hi * 4294967296;
}

/** Stores the pointer loadRevealed() last returned, exactly (it may be a corrupted one). */
export function storeRevealed(h: HeapProcess, addr: number): void {
  h.mem.wrHalves(addr, h.revealedLo, h.revealedHi);
}
