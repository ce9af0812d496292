// _int_malloc for the main arena when the tcache has nothing for the request, in its most
// common shapes, after the fastbin and the small bin of the size were found empty (a hit there
// stashes into the tcache: the general path's):
//  - the unsorted bin holds only the last remainder, which a small request splits again;
//  - it holds one chunk that fits exactly (and the tcache has no room for it, or no bin);
//  - it holds one larger chunk whose bin (small, or large) was empty: sorted into that bin, it
//    is the chunk the binmap search then finds and splits (the remainder back to the unsorted
//    bin), so the net effect is a split that leaves the bin's links and binmap bit set;
//  - it holds one chunk of a smaller small size: sorted into its bin, then as if it were empty;
//  - it is empty: the binmap's next nonempty bin (stale bits cleared on the way) gives its
//    last chunk to split (taken off the nextsize list too when it heads one), or top is split.
// Anything else (consolidation, sysmalloc, free_perturb, more than one unsorted chunk, a chunk
// sorted into a nonempty large bin, a large request's own bin) gives up before the first store, and
// int-malloc.ts runs the call from the start. The rules of fast-paths.ts and fast-free.ts hold:
// every word in the flat tier or libc's page and already accounted in this generation (top's
// split does the general path's accounting instead); glibc's loads first, each taking what
// glibc's earlier stores would have left (the comments say where that matters).
//
// Pointers are compared and stored as uint32 halves and turned into unified offsets (see
// fast-free.ts) inline: a call that passes or returns a pointer-sized number allocates a heap
// number when V8 does not inline it, which costs as much as the general path saves.
import {
  fastbinIndex,
  largebinIndex,
  MIN_LARGE_SIZE,
  MINSIZE,
  MS_BINMAP,
  MS_BINS,
  MS_FASTBINS,
  MS_HAVE_FASTCHUNKS,
  MS_LAST_REMAINDER,
  MS_SYSTEM_MEM,
  MS_TOP,
  PREV_INUSE,
  request2size,
} from '../constants.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';
import { callocClear } from './api.js';
import { indexOf, loaded, near, NO, PAGE, prepared, storeAt, unified, wordsOf } from './fast-free.js';
import { FAST_DONE, FAST_NO } from './fast-paths.js';

const TWO32 = 4294967296;
/** Sizes handled here: small integers. */
const SIZE_LIMIT = 0x40000000;
/** Larger callocs are left to the general path (few, and clearing them dominates). */
const CALLOC_FAST_MAX = 0x100000;

/**
 * _int_malloc(&main_arena, bytes) for chunk size nb (request2size(bytes), below 2^30), in a
 * single-threaded process with a tcache: FAST_DONE with the user pointer in h.io[0], or
 * FAST_NO when the general path must run the call.
 */
export function intMallocFast(h: HeapProcess, nb: number): number {
  const g = h.g;
  if (g[G.PerturbByte] !== 0 || g[G.MultiThreaded] !== 0 || h.tcache === 0) return FAST_NO;
  const m = h.mem;
  const hb = m.hb, len = m.hlen, gen = m.gen, rg = m.hrGen, bg = m.hbGen, w = m.flat, lw = m.lw, lbg = m.lbGen;
  const hbLo = hb >>> 0, hbHi = (hb / TWO32) >>> 0;
  const lbLo = m.lb >>> 0, lbHi = (m.lb / TWO32) >>> 0;
  if (lbLo > TWO32 - PAGE) return FAST_NO;
  // byte offsets in libc's page
  const ao = MAIN_ARENA - m.lb;
  const uO = ao + MS_BINS - 16;
  const uLo = lbLo + uO;
  const small = nb < MIN_LARGE_SIZE;

  // the fastbin and the small bin of the size are empty; a large request consolidates first
  if (nb <= g[G.GlobalMaxFast]) {
    const fbI = (ao + MS_FASTBINS + fastbinIndex(nb) * 8) >>> 2;
    if (lw[fbI] !== 0 || lw[fbI + 1] !== 0) return FAST_NO;
  }
  let idx: number;
  if (small) {
    idx = nb >>> 4;
    const binO = uO + (idx - 1) * 16;
    if (lw[(binO + 24) >>> 2] !== lbLo + binO || lw[(binO + 28) >>> 2] !== lbHi) return FAST_NO;
  } else {
    idx = largebinIndex(nb);
    if (lw[(ao + MS_HAVE_FASTCHUNKS) >>> 2] !== 0) return FAST_NO;
  }
  if (lw[(ao + MS_SYSTEM_MEM + 4) >>> 2] !== 0) return FAST_NO;
  const sysMem = lw[(ao + MS_SYSTEM_MEM) >>> 2];
  const bmI = (ao + MS_BINMAP) >>> 2;

  // the unsorted bin
  const vLo = lw[(uO + 24) >>> 2], vHi = lw[(uO + 28) >>> 2];
  // the one unsorted chunk, when it goes to a small bin: above the request's (sortedBin), or
  // below it (keptBin, with keptFwd the chunk it goes in front of)
  let sortedBin = -1;
  let keptBin = -1, keptFwd = NO;
  let vo = 0, size = 0, next = 0, nextNomask = 0;
  if (vLo !== uLo || vHi !== lbHi) {
    vo = vLo - hbLo + (vHi - hbHi) * TWO32;
    if (!(vo >= 0 && vo + 48 <= len) || (vo & 15) !== 0 || rg[(vo + 8) >>> 12] !== gen || rg[(vo + 16) >>> 12] !== gen) return FAST_NO;
    const vi = vo >>> 2;
    // one chunk: its bk is the bin (bck == unsorted_chunks (av))
    if (w[vi + 6] !== uLo || w[vi + 7] !== lbHi) return FAST_NO;
    if (w[vi + 3] !== 0 || w[vi + 2] >= SIZE_LIMIT) return FAST_NO;
    size = w[vi + 2] & ~7;
    next = vo + size;
    // malloc(): invalid size (unsorted), invalid next size, mismatching next->prev_size,
    // unsorted double linked list corrupted, invalid next->prev_inuse
    if (size <= 16 || size > sysMem) return FAST_NO;
    if (next + 16 > len || rg[next >>> 12] !== gen || rg[(next + 8) >>> 12] !== gen) return FAST_NO;
    const ni = next >>> 2;
    if (w[ni + 1] !== 0 || w[ni + 3] !== 0 || w[ni + 2] >= SIZE_LIMIT) return FAST_NO;
    nextNomask = w[ni + 2];
    if (nextNomask < 16 || nextNomask > sysMem || (w[ni] & ~7) !== size) return FAST_NO;
    if (lw[(uO + 16) >>> 2] !== vLo || lw[(uO + 20) >>> 2] !== vHi || w[vi + 4] !== uLo || w[vi + 5] !== lbHi) return FAST_NO;
    if ((nextNomask & PREV_INUSE) !== 0) return FAST_NO;
    const lrI = (ao + MS_LAST_REMAINDER) >>> 2;
    if (small && lw[lrI] === vLo && lw[lrI + 1] === vHi && size > nb + MINSIZE) {
      // the last remainder, split again
      if (vo + size + 8 > len || lbg[(uO + 16) >>> 9] !== gen || lbg[lrI >>> 7] !== gen) return FAST_NO;
      const r = hb + vo + nb;
      const rLo = r >>> 0, rHi = (r / TWO32) >>> 0;
      lw[(uO + 24) >>> 2] = rLo;
      lw[(uO + 28) >>> 2] = rHi;
      lw[(uO + 16) >>> 2] = rLo;
      lw[(uO + 20) >>> 2] = rHi;
      lw[lrI] = rLo;
      lw[lrI + 1] = rHi;
      splitNote(m, vo, nb, size - nb);
      splitStore(m, vo, nb, size - nb, uLo, lbHi, uLo, lbHi);
      return done(h, hb + vo + 16);
    }
    // taken off the unsorted bin: unsorted_chunks (av)->bk = bck; bck->fd = unsorted_chunks (av)
    if (size === nb) {
      // an exact fit the tcache has room for is stashed: the general path's
      const tcIdx = (nb - MINSIZE + 15) >>> 4;
      if (tcIdx < g[G.TcacheBins]) {
        const co = h.tcache - hb + tcIdx * 2;
        if (!(co >= 0 && co + 2 <= len) || rg[co >>> 12] !== gen) return FAST_NO;
        const cw = w[co >>> 2];
        if (((co & 2) === 0 ? cw & 0xffff : cw >>> 16) < g[G.TcacheCount]) return FAST_NO;
      }
      if (lbg[(uO + 16) >>> 9] !== gen || bg[(next + 8) >>> 9] !== gen) return FAST_NO;
      lw[(uO + 24) >>> 2] = uLo;
      lw[(uO + 28) >>> 2] = lbHi;
      lw[(uO + 16) >>> 2] = uLo;
      lw[(uO + 20) >>> 2] = lbHi;
      // set_inuse_bit_at_offset (victim, size)
      w[ni + 2] = nextNomask | PREV_INUSE;
      return done(h, hb + vo + 16);
    }
    // sorted into its bin (a nonempty large bin's order is the general path's)
    const i0 = size >= MIN_LARGE_SIZE ? largebinIndex(size) : size >>> 4;
    const b0 = uO + (i0 - 1) * 16;
    if (size >= MIN_LARGE_SIZE) {
      // into its empty large bin above the request's, as the only chunk of its size
      // (fd_nextsize = bk_nextsize = itself), for the binmap search to take straight back;
      // unlink_chunk then finds the bin's fd_nextsize (the next bin's fd) non-null
      if (i0 <= idx || lw[(b0 + 16) >>> 2] !== lbLo + b0 || lw[(b0 + 20) >>> 2] !== lbHi || w[ni] !== size) return FAST_NO;
      if (lw[(b0 + 32) >>> 2] === 0 && lw[(b0 + 36) >>> 2] === 0) return FAST_NO;
      if (bg[(vo + 32) >>> 9] !== gen) return FAST_NO;
      sortedBin = i0;
    } else if (i0 < idx) {
      // below the request's bin: it stays there, in front of the bin's chunks
      keptBin = i0;
      keptFwd = unified(m, lw[(b0 + 16) >>> 2], lw[(b0 + 20) >>> 2]);
      if (keptFwd === NO) return FAST_NO;
    } else {
      // above: the bin must be empty and come before any other nonempty bin above the
      // request's (checked below), so that the binmap search takes the chunk straight back
      sortedBin = i0;
      if (lw[(b0 + 16) >>> 2] !== lbLo + b0 || lw[(b0 + 20) >>> 2] !== lbHi) return FAST_NO;
      // unlink_chunk's size check compares prev_size unmasked
      if (w[ni] !== size) return FAST_NO;
    }
  }

  // a large request's own bin: its best fit is the general path's
  if (!small) {
    const binO = uO + (idx - 1) * 16;
    const fLo = lw[(binO + 16) >>> 2], fHi = lw[(binO + 20) >>> 2];
    if (fLo !== lbLo + binO || fHi !== lbHi) {
      if (keptBin >= 0) return FAST_NO;
      const fo = fLo - hbLo + (fHi - hbHi) * TWO32;
      if (!(fo >= 0 && fo + 16 <= len) || rg[(fo + 8) >>> 12] !== gen) return FAST_NO;
      if (w[(fo + 12) >>> 2] !== 0 || w[(fo + 8) >>> 2] >= nb) return FAST_NO;
    }
  }

  // the binmap search from idx + 1: empty bins' bits are cleared on the way (glibc stores
  // each block's word as it clears; only the last value shows)
  let found = -1;
  let clear0 = 0, clear1 = 0, clear2 = 0, clear3 = 0;
  const stop = sortedBin >= 0 ? sortedBin : 128;
  for (let i = idx + 1; i < stop; i++) {
    const word = lw[bmI + (i >>> 5)];
    if ((word & (1 << (i & 31))) === 0) {
      // the rest of an empty word at once
      if (word >>> (i & 31) === 0) i |= 31;
      continue;
    }
    const binO = uO + (i - 1) * 16;
    if (lw[(binO + 24) >>> 2] === lbLo + binO && lw[(binO + 28) >>> 2] === lbHi) {
      const bit = 1 << (i & 31);
      if (i < 32) clear0 |= bit;
      else if (i < 64) clear1 |= bit;
      else if (i < 96) clear2 |= bit;
      else clear3 |= bit;
      continue;
    }
    found = i;
    break;
  }
  if (found >= 0 && sortedBin >= 0) return FAST_NO;
  if ((clear0 | clear1) !== 0 && lbg[bmI >>> 7] !== gen) return FAST_NO;
  if ((clear2 | clear3) !== 0 && lbg[(bmI + 2) >>> 7] !== gen) return FAST_NO;
  if (keptBin >= 0) {
    const b0 = uO + (keptBin - 1) * 16;
    if (lbg[(uO + 16) >>> 9] !== gen || lbg[(b0 + 16) >>> 9] !== gen || lbg[(bmI + (keptBin >>> 5)) >>> 7] !== gen) return FAST_NO;
    if (bg[(vo + 16) >>> 9] !== gen || !prepared(m, keptFwd + 24)) return FAST_NO;
  }

  if (sortedBin >= 0) {
    // The chunk goes to its empty bin (mark_bin; its fd and bk the bin), the search finds it
    // there, unlink_chunk empties the bin again, and the rest is the split below.
    const remainderSize = size - nb;
    const b0 = uO + (sortedBin - 1) * 16;
    const bmW = bmI + (sortedBin >>> 5);
    if (lbg[(uO + 16) >>> 9] !== gen || lbg[(b0 + 16) >>> 9] !== gen || lbg[bmW >>> 7] !== gen || bg[(vo + 16) >>> 9] !== gen) return FAST_NO;
    if (vo + size + 8 > len) return FAST_NO;
    if (remainderSize >= MINSIZE && lbg[((ao + MS_LAST_REMAINDER) >>> 2) >>> 7] !== gen) return FAST_NO;
    // unsorted_chunks (av)->bk = bck; bck->fd = unsorted_chunks (av) (empty again)
    lw[(uO + 16) >>> 2] = uLo;
    lw[(uO + 20) >>> 2] = lbHi;
    lw[(uO + 24) >>> 2] = uLo;
    lw[(uO + 28) >>> 2] = lbHi;
    clearBits(lw, bmI, clear0, clear1, clear2, clear3);
    lw[bmW] = (lw[bmW] | (1 << (sortedBin & 31))) >>> 0;
    const vi = vo >>> 2;
    if (size >= MIN_LARGE_SIZE) {
      // victim->fd_nextsize = victim->bk_nextsize = victim (unlink_chunk stores the same again)
      const v = hb + vo;
      w[vi + 8] = w[vi + 10] = v >>> 0;
      w[vi + 9] = w[vi + 11] = (v / TWO32) >>> 0;
    }
    w[vi + 4] = lbLo + b0;
    w[vi + 5] = lbHi;
    w[vi + 6] = lbLo + b0;
    w[vi + 7] = lbHi;
    lw[(b0 + 16) >>> 2] = lbLo + b0;
    lw[(b0 + 20) >>> 2] = lbHi;
    lw[(b0 + 24) >>> 2] = lbLo + b0;
    lw[(b0 + 28) >>> 2] = lbHi;
    return finishSplit(h, vo, nb, size, uO, uLo, lbHi, uLo, lbHi, small);
  }

  if (found >= 0) {
    // the bin's last chunk v: unlink_chunk, then split (the remainder to the unsorted bin,
    // which is empty: its fd and bk are the bin itself, or will be once the kept chunk is sorted)
    if (keptBin < 0 && (lw[(uO + 16) >>> 2] !== uLo || lw[(uO + 20) >>> 2] !== lbHi || lw[(uO + 24) >>> 2] !== uLo || lw[(uO + 28) >>> 2] !== lbHi)) return FAST_NO;
    const binO = uO + (found - 1) * 16;
    const pLo = lw[(binO + 24) >>> 2], pHi = lw[(binO + 28) >>> 2];
    const po = pLo - hbLo + (pHi - hbHi) * TWO32;
    if (!(po >= 0 && po + 48 <= len) || (po & 15) !== 0 || rg[(po + 8) >>> 12] !== gen || rg[(po + 16) >>> 12] !== gen) return FAST_NO;
    const pi = po >>> 2;
    if (w[pi + 3] !== 0 || w[pi + 2] >= SIZE_LIMIT) return FAST_NO;
    const pNomask = w[pi + 2];
    const psize = pNomask & ~7;
    const pnext = po + psize;
    // corrupted size vs. prev_size
    if (psize < nb || pnext + 16 > len || rg[pnext >>> 12] !== gen || rg[(pnext + 8) >>> 12] !== gen) return FAST_NO;
    if (w[pnext >>> 2] !== psize || w[(pnext + 4) >>> 2] !== 0) return FAST_NO;
    const fo = unified(m, w[pi + 4], w[pi + 5]);
    const bo = unified(m, w[pi + 6], w[pi + 7]);
    // a chunk in a large bin's nextsize list (the first of its size): unlink_chunk takes it off
    // that list too, after the fd/bk stores. Its nextsize neighbours are other free chunks (a
    // sound heap never has them overlap p, nor fd or bk lie next to them).
    let pfn = NO, pbn = NO, fdNs = NO;
    if (pNomask >= MIN_LARGE_SIZE) {
      if (rg[(po + 32) >>> 12] !== gen) return FAST_NO;
      if (w[pi + 8] !== 0 || w[pi + 9] !== 0) {
        pfn = unified(m, w[pi + 8], w[pi + 9]);
        pbn = unified(m, w[pi + 10], w[pi + 11]);
        if (pfn < 0 || pbn < 0 || !loaded(m, pfn + 40) || !loaded(m, pbn + 32)) return FAST_NO;
        if (!(pfn === po || pfn >= pnext || pfn + 48 <= po) || !(pbn === po || pbn >= pnext || pbn + 48 <= po)) return FAST_NO;
        if (near(fo, pfn) || near(bo, pfn) || near(fo, pbn) || near(bo, pbn) || bo - fo === 16) return FAST_NO;
        // corrupted double-linked list (not small)
        if (w[(pfn + 40) >>> 2] !== pLo || w[(pfn + 44) >>> 2] !== pHi || w[(pbn + 32) >>> 2] !== pLo || w[(pbn + 36) >>> 2] !== pHi) return FAST_NO;
        // fd->fd_nextsize == NULL: fd takes p's place in the nextsize list (fd a chunk)
        if (!loaded(m, fo + 32)) return FAST_NO;
        const fA = wordsOf(m, fo), fi = indexOf(fo);
        if (fA[fi + 8] === 0 && fA[fi + 9] === 0) {
          if (fo < 0 || !(fo >= pnext + 16 || fo + 48 <= po) || !prepared(m, fo + 32)) return FAST_NO;
          fdNs = fo;
        }
        if (!prepared(m, pfn + 40) || !prepared(m, pbn + 32)) return FAST_NO;
      }
    }
    if (fo === NO || bo === NO || fo === po || bo === po || fo === uO - PAGE || bo === uO - PAGE) return FAST_NO;
    if (!loaded(m, fo + 24) || !loaded(m, bo + 16)) return FAST_NO;
    // corrupted double-linked list
    const fA = wordsOf(m, fo), fi = indexOf(fo), bA = wordsOf(m, bo), bi = indexOf(bo);
    if (fA[fi + 6] !== pLo || fA[fi + 7] !== pHi || bA[bi + 4] !== pLo || bA[bi + 5] !== pHi) return FAST_NO;
    // a neighbour 16 bytes from a chunk whose fields are loaded after the unlink's stores
    if (near(fo, po) || near(bo, po) || near(fo, pnext) || near(bo, pnext)) return FAST_NO;
    // the kept chunk's sorting stored into it, its new neighbour and its bin: none of them may
    // be (or lie next to) what is loaded after
    if (keptBin >= 0) {
      const b0 = uO + (keptBin - 1) * 16 - PAGE;
      if (near(vo, po) || near(vo, pnext) || near(keptFwd, po) || near(keptFwd, pnext)) return FAST_NO;
      if (fo === vo || bo === vo || fo === keptFwd || bo === keptFwd || fo === b0 || bo === b0) return FAST_NO;
    }
    if (!prepared(m, fo + 24) || !prepared(m, bo + 16)) return FAST_NO;
    const remainderSize = psize - nb;
    if (pnext + 16 > len) return FAST_NO;
    if (remainderSize >= MINSIZE && (lbg[(uO + 16) >>> 9] !== gen || lbg[((ao + MS_LAST_REMAINDER) >>> 2) >>> 7] !== gen)) return FAST_NO;
    if (keptBin >= 0) keptSortStore(m, uO, keptBin, vo, keptFwd);
    clearBits(lw, bmI, clear0, clear1, clear2, clear3);
    storeAt(m, fo + 24, bo);
    storeAt(m, bo + 16, fo);
    if (pfn !== NO) {
      if (fdNs === NO) {
        // p->fd_nextsize->bk_nextsize = p->bk_nextsize; p->bk_nextsize->fd_nextsize = p->fd_nextsize
        storeAt(m, pfn + 40, pbn);
        storeAt(m, pbn + 32, pfn);
      } else if (pfn === po) {
        storeAt(m, fdNs + 32, fdNs);
        storeAt(m, fdNs + 40, fdNs);
      } else {
        storeAt(m, fdNs + 32, pfn);
        storeAt(m, fdNs + 40, pbn);
        storeAt(m, pfn + 40, fdNs);
        storeAt(m, pbn + 32, fdNs);
      }
    }
    return finishSplit(h, po, nb, psize, uO, uLo, lbHi, uLo, lbHi, small);
  }

  // use_top (malloc(): corrupted top size); too small: consolidation or sysmalloc, the general
  // path's. Top moves into memory not yet touched in this generation more often than not, so
  // its load and stores do the general path's accounting (it is their first touch in the call:
  // every word loaded before is in libc's page or was checked accounted, and the general path,
  // should it run after all, finds them accounted and queues nothing more).
  const topI = (ao + MS_TOP) >>> 2;
  const to = lw[topI] - hbLo + (lw[topI + 1] - hbHi) * TWO32;
  if (!(to >= 0 && to + 16 <= len) || (to & 15) !== 0 || lbg[topI >>> 7] !== gen) return FAST_NO;
  m.noteFlatLoad(to + 8);
  if (w[(to + 12) >>> 2] !== 0 || w[(to + 8) >>> 2] >= SIZE_LIMIT) return FAST_NO;
  const tsize = w[(to + 8) >>> 2] & ~7;
  if (tsize > sysMem || tsize < nb + MINSIZE) return FAST_NO;
  const ro = to + nb;
  if (ro + 16 > len) return FAST_NO;
  if (keptBin >= 0 && (near(vo, to) || near(keptFwd, to))) return FAST_NO;
  if (keptBin >= 0) keptSortStore(m, uO, keptBin, vo, keptFwd);
  m.noteFlatStore(to + 8);
  m.noteFlatStore(ro + 8);
  clearBits(lw, bmI, clear0, clear1, clear2, clear3);
  const r = hb + ro;
  lw[topI] = r >>> 0;
  lw[topI + 1] = (r / TWO32) >>> 0;
  w[(to + 8) >>> 2] = nb + PREV_INUSE;
  w[(to + 12) >>> 2] = 0;
  w[(ro + 8) >>> 2] = tsize - nb + PREV_INUSE;
  w[(ro + 12) >>> 2] = 0;
  return done(h, hb + to + 16);
}

/**
 * The unsorted bin's one chunk (at flat offset vo) sorted into small bin i below the request's:
 * taken off the unsorted bin (empty again), mark_bin, and linked in front of the bin's first
 * chunk (at unified offset fwd, the bin itself when empty).
 */
function keptSortStore(m: HeapProcess['mem'], uO: number, i: number, vo: number, fwd: number): void {
  const lw = m.lw;
  const u = uO - PAGE;
  storeAt(m, u + 24, u);
  storeAt(m, u + 16, u);
  const bmW = (MAIN_ARENA - m.lb + MS_BINMAP) / 4 + (i >>> 5);
  lw[bmW] = (lw[bmW] | (1 << (i & 31))) >>> 0;
  const b = uO + (i - 1) * 16 - PAGE;
  storeAt(m, vo + 24, b);
  storeAt(m, vo + 16, fwd);
  storeAt(m, fwd + 24, vo);
  storeAt(m, b + 16, vo);
}

/** Clears binmap bits of the four blocks (the stale bits the search met). */
function clearBits(lw: Uint32Array, bmI: number, c0: number, c1: number, c2: number, c3: number): void {
  if (c0 !== 0) lw[bmI] = (lw[bmI] & ~c0) >>> 0;
  if (c1 !== 0) lw[bmI + 1] = (lw[bmI + 1] & ~c1) >>> 0;
  if (c2 !== 0) lw[bmI + 2] = (lw[bmI + 2] & ~c2) >>> 0;
  if (c3 !== 0) lw[bmI + 3] = (lw[bmI + 3] & ~c3) >>> 0;
}

/**
 * The general path's accounting for the split's stores, in its order (see noteFlatStore): the
 * remainder's bk and fd, its nextsize links when it is large, both heads, the remainder's foot.
 * Split chunks often reach memory not yet stored to in this generation (a foot far away).
 */
function splitNote(m: HeapProcess['mem'], vo: number, nb: number, remainderSize: number): void {
  const ro = vo + nb;
  m.noteFlatStore(ro + 24);
  m.noteFlatStore(ro + 16);
  if (remainderSize >= MIN_LARGE_SIZE) {
    m.noteFlatStore(ro + 32);
    m.noteFlatStore(ro + 40);
  }
  m.noteFlatStore(vo + 8);
  m.noteFlatStore(ro + 8);
  m.noteFlatStore(ro + remainderSize);
}

/**
 * The split's stores into the chunk at vo: the remainder's bk and fd, its nextsize links
 * cleared when it is large, both heads and the remainder's foot (set_head, set_foot).
 */
function splitStore(m: HeapProcess['mem'], vo: number, nb: number, remainderSize: number, bkLo: number, bkHi: number, fdLo: number, fdHi: number): void {
  const w = m.flat;
  const ri = (vo + nb) >>> 2;
  w[ri + 6] = bkLo;
  w[ri + 7] = bkHi;
  w[ri + 4] = fdLo;
  w[ri + 5] = fdHi;
  if (remainderSize >= MIN_LARGE_SIZE) {
    w[ri + 8] = 0;
    w[ri + 9] = 0;
    w[ri + 10] = 0;
    w[ri + 11] = 0;
  }
  const vi = vo >>> 2;
  w[vi + 2] = nb + PREV_INUSE;
  w[vi + 3] = 0;
  w[ri + 2] = remainderSize + PREV_INUSE;
  w[ri + 3] = 0;
  const fi = (vo + nb + remainderSize) >>> 2;
  w[fi] = remainderSize;
  w[fi + 1] = 0;
}

/**
 * The end of the binmap case: a remainder too small to split leaves the whole chunk in use;
 * otherwise the remainder goes to the (empty) unsorted bin, becomes the last remainder for a
 * small request, and the chunk is split. FAST_DONE.
 */
function finishSplit(h: HeapProcess, vo: number, nb: number, size: number, uO: number, uLo: number, uHi: number, fwdLo: number, fwdHi: number, small: boolean): number {
  const m = h.mem;
  const w = m.flat, lw = m.lw;
  const remainderSize = size - nb;
  if (remainderSize < MINSIZE) {
    // set_inuse_bit_at_offset (victim, size)
    m.noteFlatStore(vo + size + 8);
    const ni = (vo + size) >>> 2;
    w[ni + 2] = (w[ni + 2] | PREV_INUSE) >>> 0;
    return done(h, m.hb + vo + 16);
  }
  const r = m.hb + vo + nb;
  const rLo = r >>> 0, rHi = (r / TWO32) >>> 0;
  // remainder->bk = bck; remainder->fd = fwd; bck->fd = remainder; fwd->bk = remainder (fwd is the bin)
  lw[(uO + 16) >>> 2] = rLo;
  lw[(uO + 20) >>> 2] = rHi;
  lw[(uO + 24) >>> 2] = rLo;
  lw[(uO + 28) >>> 2] = rHi;
  if (small) {
    const lrI = (MAIN_ARENA - m.lb + MS_LAST_REMAINDER) >>> 2;
    lw[lrI] = rLo;
    lw[lrI + 1] = rHi;
  }
  splitNote(m, vo, nb, remainderSize);
  splitStore(m, vo, nb, remainderSize, uLo, uHi, fwdLo, fwdHi);
  return done(h, m.hb + vo + 16);
}

/** FAST_DONE, with the user pointer mem in h.io[0]. */
function done(h: HeapProcess, mem: number): number {
  h.io[0] = mem;
  return FAST_DONE;
}

/**
 * __libc_calloc(n, elem_size) when its _int_malloc is intMallocFast's: FAST_DONE with the user
 * pointer (cleared as glibc clears it) in h.io[0], or FAST_NO when the general path must run
 * the call.
 */
export function callocFast(h: HeapProcess, n: number, elemSize: number): number {
  const bytes = n * elemSize;
  if (!(bytes >= 0 && bytes <= CALLOC_FAST_MAX) || h.g[G.Initialized] === 0) return FAST_NO;
  // oldtop = top (av); oldtopsize = chunksize (oldtop)
  const m = h.mem;
  const topI = (MAIN_ARENA - m.lb + MS_TOP) >>> 2;
  const to = m.lw[topI] + m.lw[topI + 1] * TWO32 - m.hb;
  if (!(to >= 0 && to + 16 <= m.hlen) || m.hrGen[(to + 8) >>> 12] !== m.gen || m.flat[(to + 12) >>> 2] !== 0) return FAST_NO;
  const oldtopsize = m.flat[(to + 8) >>> 2] & ~7;
  if (intMallocFast(h, request2size(bytes)) !== FAST_DONE) return FAST_NO;
  callocClear(h, h.io[0], bytes, m.hb + to, oldtopsize);
  return FAST_DONE;
}
