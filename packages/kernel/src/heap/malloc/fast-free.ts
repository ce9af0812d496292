// The rest of _int_free for a chunk of the main arena when the tcache does not take it (its bin
// is full, or the chunk is larger than the tcache's sizes): the fastbin push, and the
// coalescing free into the unsorted bin. Same rules as fast-paths.ts: glibc's loads and checks
// first, every word in the brk heap's flat tier or libc's page and already accounted in this
// generation; anything out of the ordinary (a check glibc would fail, free_perturb, a chunk in
// a large bin's nextsize list, a free large enough to consolidate the fastbins or trim) gives
// up before the first store, and int-free.ts runs the call from the start.
//
// glibc's unlink_chunk stores into the list neighbours' fd/bk before the next loads; here the
// loads come first, so a later load that an earlier store would have changed takes the stored
// value instead (the comments say which). Every list member is 16-aligned (a neighbour that is
// not gives up), so a neighbour's fd or bk is the same word as a field loaded later only when
// the neighbour is that chunk or lies 16 bytes from it (bk of c - 16 is c's size field, fd of
// c + 16 its fd_nextsize): chunks never do in a sound heap, and such a neighbour gives up.
//
// Words are found by "unified offsets", small integers: a byte offset into the flat tier
// (>= 0), or into libc's page minus PAGE (the bin headers live there). Helpers take and return
// only such integers and arrays: a call that passes or returns a pointer-sized number allocates
// a heap number when V8 does not inline it.
import {
  CHUNK_HDR_SZ,
  FASTBIN_CONSOLIDATION_THRESHOLD,
  MIN_LARGE_SIZE,
  MS_BINS,
  MS_FASTBINS,
  MS_FLAGS,
  MS_HAVE_FASTCHUNKS,
  MS_SYSTEM_MEM,
  MS_TOP,
  NONCONTIGUOUS_BIT,
  PREV_INUSE,
} from '../constants.js';
import type { WordMemory } from '../memory/word-memory.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';

const TWO32 = 4294967296;
export const PAGE = 4096;
/** Not a word a fast path may use (a small integer, like every unified offset). */
export const NO = -0x20000000;
/** Words from here up are not exact as doubles. */
const HI_EXACT = 0x200000;

/**
 * The unified offset of the chunk or bin header at the address whose uint32 halves are lo and
 * hi, or NO (elsewhere, misaligned, or too close to the end).
 */
export function unified(m: WordMemory, lo: number, hi: number): number {
  const lbLo = m.lb >>> 0;
  if (hi === (m.lb / TWO32) >>> 0 && lo - lbLo >= 0 && lo - lbLo + 48 <= PAGE) return (lo & 15) === 0 ? lo - lbLo - PAGE : NO;
  const o = lo + hi * TWO32 - m.hb;
  return o >= 0 && o + 48 <= m.hlen && (o & 15) === 0 ? o : NO;
}

/** The array holding the word at unified offset o. */
export const wordsOf = (m: WordMemory, o: number): Uint32Array => (o >= 0 ? m.flat : m.lw);
/** Its index there. */
export const indexOf = (o: number): number => (o >= 0 ? o : o + PAGE) >>> 2;
/** A load of the word at o reports nothing: its page was read in this generation (libc's page is never reported). */
export const loaded = (m: WordMemory, o: number): boolean => o < 0 || m.hrGen[o >>> 12] === m.gen;
/** A store to the word at o needs nothing else: its block was prepared in this generation. */
export const prepared = (m: WordMemory, o: number): boolean => (o >= 0 ? m.hbGen[o >>> 9] : m.lbGen[(o + PAGE) >>> 9]) === m.gen;
/** Whether the flat-tier chunk at xo is within 16 bytes of the one at co. */
export const near = (xo: number, co: number): boolean => xo >= 0 && xo >= co - 16 && xo <= co + 16;

/**
 * _int_free(&main_arena, p, 0) past the tcache, for the chunk p at offset po of the flat tier
 * (16-aligned, its size field's page read in this generation, size < 2^32, IS_MMAPPED and
 * NON_MAIN_ARENA clear: the caller checked): true when done, false when the general path must
 * run the call.
 */
export function freeToArenaFast(h: HeapProcess, po: number, size: number): boolean {
  const g = h.g;
  if (g[G.PerturbByte] !== 0) return false;
  const m = h.mem;
  const hb = m.hb, len = m.hlen, gen = m.gen, rg = m.hrGen, bg = m.hbGen, w = m.flat, lw = m.lw, lbg = m.lbGen;
  const ao = MAIN_ARENA - m.lb;
  const p = hb + po;
  const sysMem = lw[(ao + MS_SYSTEM_MEM) >>> 2] + lw[(ao + MS_SYSTEM_MEM + 4) >>> 2] * TWO32;
  // the next chunk's size field
  const no = po + size;
  if (no + 48 > len || rg[(no + 8) >>> 12] !== gen || w[(no + 12) >>> 2] !== 0) return false;
  const nextNomask = w[(no + 8) >>> 2];
  const nextsize = nextNomask - (nextNomask & 7);

  if (size <= g[G.GlobalMaxFast]) {
    // free(): invalid next size (fast)
    if (nextNomask <= CHUNK_HDR_SZ || nextsize >= sysMem) return false;
    const haveI = (ao + MS_HAVE_FASTCHUNKS) >>> 2;
    const fbI = (ao + MS_FASTBINS + ((size >>> 4) - 2) * 8) >>> 2;
    const fdI = (po + 16) >>> 2;
    if (lbg[haveI >>> 7] !== gen || lbg[fbI >>> 7] !== gen || bg[fdI >>> 7] !== gen) return false;
    // double free or corruption (fasttop)
    const oldLo = lw[fbI], oldHi = lw[fbI + 1];
    if (oldLo + oldHi * TWO32 === p) return false;
    // atomic_store_relaxed (&av->have_fastchunks, true) (an int: the low half)
    lw[haveI] = 1;
    // p->fd = PROTECT_PTR (&p->fd, old); *fb = p
    const s = Math.floor((p + 16) / PAGE);
    w[fdI] = ((s >>> 0) ^ oldLo) >>> 0;
    w[fdI + 1] = ((Math.floor(s / TWO32) >>> 0) ^ oldHi) >>> 0;
    lw[fbI] = p >>> 0;
    lw[fbI + 1] = (p / TWO32) >>> 0;
    return true;
  }

  // double free or corruption (top), (out), (!prev); free(): invalid next size (normal)
  const topI = (ao + MS_TOP) >>> 2;
  const t = lw[topI] + lw[topI + 1] * TWO32;
  if (p === t || (lw[(ao + MS_FLAGS) >>> 2] & NONCONTIGUOUS_BIT) !== 0) return false;
  const to = unified(m, lw[topI], lw[topI + 1]);
  if (to < 0 || rg[(to + 8) >>> 12] !== gen || w[(to + 12) >>> 2] !== 0) return false;
  const topSizeLo = w[(to + 8) >>> 2];
  if (no >= to + topSizeLo - (topSizeLo & 7)) return false;
  if ((nextNomask & PREV_INUSE) === 0 || nextNomask <= CHUNK_HDR_SZ || nextsize >= sysMem) return false;
  // a large free consolidates the fastbins (with some) and trims (top past the threshold): the
  // general path's
  const haveFastchunks = lw[(ao + MS_HAVE_FASTCHUNKS) >>> 2] !== 0;
  const trimThreshold = g[G.TrimThreshold];

  // consolidate backward: unlink_chunk (av, q) for the previous chunk q
  let qo = po;
  let total = size;
  const prevMerged = (w[(po + 8) >>> 2] & PREV_INUSE) === 0;
  let f1o = NO, b1o = NO;
  if (prevMerged) {
    if (w[(po + 4) >>> 2] !== 0) return false;
    const prevsize = w[po >>> 2];
    qo = po - prevsize;
    if (qo < 0 || (qo & 15) !== 0 || rg[(qo + 8) >>> 12] !== gen || rg[(qo + 16) >>> 12] !== gen) return false;
    const qi = qo >>> 2;
    const qNomask = w[qi + 2];
    // corrupted size vs. prev_size while consolidating (unlink_chunk's own check loads the same prev_size)
    if (w[qi + 3] !== 0 || qNomask - (qNomask & 7) !== prevsize) return false;
    if (w[qi + 5] >= HI_EXACT || w[qi + 7] >= HI_EXACT) return false;
    f1o = unified(m, w[qi + 4], w[qi + 5]);
    b1o = unified(m, w[qi + 6], w[qi + 7]);
    if (f1o === NO || b1o === NO || f1o === qo || b1o === qo || !loaded(m, f1o + 24) || !loaded(m, b1o + 16)) return false;
    // corrupted double-linked list: bk (fd) and fd (bk) must be q
    const q = hb + qo;
    const qLo = q >>> 0, qHi = (q / TWO32) >>> 0;
    const fA = wordsOf(m, f1o), fi = indexOf(f1o), bA = wordsOf(m, b1o), bi = indexOf(b1o);
    if (fA[fi + 6] !== qLo || fA[fi + 7] !== qHi || bA[bi + 4] !== qLo || bA[bi + 5] !== qHi) return false;
    // a chunk in a large bin's nextsize list
    if (qNomask >= MIN_LARGE_SIZE && (rg[(qo + 32) >>> 12] !== gen || w[qi + 8] !== 0 || w[qi + 9] !== 0)) return false;
    if (!prepared(m, f1o + 24) || !prepared(m, b1o + 16)) return false;
    total += prevsize;
  }

  if (no === to) {
    // merged into top: set_head (p, size | PREV_INUSE); av->top = p
    total += nextsize;
    if (total >= FASTBIN_CONSOLIDATION_THRESHOLD && (haveFastchunks || total >= trimThreshold)) return false;
    if (prevMerged && (near(f1o, qo) || near(b1o, qo))) return false;
    if (!prepared(m, qo + 8) || lbg[topI >>> 7] !== gen) return false;
    if (prevMerged) {
      storeAt(m, f1o + 24, b1o);
      storeAt(m, b1o + 16, f1o);
    }
    w[(qo + 8) >>> 2] = total + PREV_INUSE;
    w[(qo + 12) >>> 2] = 0;
    const nt = hb + qo;
    lw[topI] = nt >>> 0;
    lw[topI + 1] = (nt / TWO32) >>> 0;
    return true;
  }

  // consolidate forward: unlink_chunk (av, nextchunk), or clear its PREV_INUSE
  const nno = no + nextsize;
  if ((nno & 15) !== 0 || nno + 16 > len || rg[(nno + 8) >>> 12] !== gen) return false;
  // a neighbour of q's list on or next to a chunk whose fields come next
  if (prevMerged && (near(f1o, qo) || near(b1o, qo) || near(f1o, no) || near(b1o, no) || near(f1o, nno) || near(b1o, nno))) return false;
  const nextinuse = (w[(nno + 8) >>> 2] & PREV_INUSE) !== 0;
  let fNo = NO, bNo = NO;
  const ni = no >>> 2;
  if (!nextinuse) {
    // corrupted size vs. prev_size
    if (w[nno >>> 2] !== nextsize || w[(nno + 4) >>> 2] !== 0) return false;
    if (rg[(no + 16) >>> 12] !== gen || w[ni + 5] >= HI_EXACT || w[ni + 7] >= HI_EXACT) return false;
    fNo = unified(m, w[ni + 4], w[ni + 5]);
    bNo = unified(m, w[ni + 6], w[ni + 7]);
    if (fNo === NO || bNo === NO || fNo === no || bNo === no || !loaded(m, fNo + 24) || !loaded(m, bNo + 16)) return false;
    // bk (fd) and fd (bk) must be nextchunk, as q's unlink left them (bk (f1) = b1, fd (b1) = f1)
    const n = no + hb;
    const nLo = n >>> 0, nHi = (n / TWO32) >>> 0;
    const fA = wordsOf(m, fNo), fi = indexOf(fNo), bA = wordsOf(m, bNo), bi = indexOf(bNo);
    const fNBkOk = prevMerged && fNo === f1o ? b1o === no : fA[fi + 6] === nLo && fA[fi + 7] === nHi;
    const bNFdOk = prevMerged && bNo === b1o ? f1o === no : bA[bi + 4] === nLo && bA[bi + 5] === nHi;
    if (!fNBkOk || !bNFdOk) return false;
    if (nextNomask >= MIN_LARGE_SIZE && (rg[(no + 32) >>> 12] !== gen || w[ni + 8] !== 0 || w[ni + 9] !== 0)) return false;
    if (!prepared(m, fNo + 24) || !prepared(m, bNo + 16)) return false;
    total += nextsize;
  } else if (bg[(no + 8) >>> 9] !== gen) return false;

  // chunksize (av->top) is unchanged by this free
  if (total >= FASTBIN_CONSOLIDATION_THRESHOLD && (haveFastchunks || topSizeLo - (topSizeLo & 7) >= trimThreshold)) return false;

  // q goes to the head of the unsorted bin: fwd = unsorted->fd as the unlinks left it, and
  // free(): corrupted unsorted chunks unless bk (fwd) is the bin
  const uo = ao + MS_BINS - 16 - PAGE;
  let fwdo: number;
  if (!nextinuse && bNo === uo) fwdo = fNo;
  else if (prevMerged && b1o === uo) fwdo = f1o;
  else {
    const ui = indexOf(uo);
    if (lw[ui + 5] >= HI_EXACT) return false;
    fwdo = unified(m, lw[ui + 4], lw[ui + 5]);
    if (fwdo === NO || !loaded(m, fwdo + 24)) return false;
  }
  let fwdBko: number;
  if (!nextinuse && fwdo === fNo) fwdBko = bNo;
  else if (prevMerged && fwdo === f1o) fwdBko = b1o;
  else {
    const A = wordsOf(m, fwdo), i = indexOf(fwdo);
    if (A[i + 7] >= HI_EXACT) return false;
    fwdBko = unified(m, A[i + 6], A[i + 7]);
  }
  if (fwdBko !== uo) return false;
  const large = total >= MIN_LARGE_SIZE;
  const footo = qo + total;
  if (!prepared(m, uo + 16) || !prepared(m, fwdo + 24) || !prepared(m, qo + 8) || !prepared(m, qo + 16) || footo + 8 > len || !prepared(m, footo)) return false;
  if (large && !prepared(m, qo + 32)) return false;

  // the stores, in glibc's order
  if (prevMerged) {
    storeAt(m, f1o + 24, b1o);
    storeAt(m, b1o + 16, f1o);
  }
  if (!nextinuse) {
    storeAt(m, fNo + 24, bNo);
    storeAt(m, bNo + 16, fNo);
  } else {
    // clear_inuse_bit_at_offset (nextchunk, 0)
    w[ni + 2] = (nextNomask & ~PREV_INUSE) >>> 0;
  }
  const qi = qo >>> 2;
  storeAt(m, qo + 16, fwdo);
  storeAt(m, qo + 24, uo);
  if (large) {
    w[qi + 8] = 0;
    w[qi + 9] = 0;
    w[qi + 10] = 0;
    w[qi + 11] = 0;
  }
  storeAt(m, uo + 16, qo);
  storeAt(m, fwdo + 24, qo);
  // set_head (q, size | PREV_INUSE); set_foot (q, size)
  w[qi + 2] = total + PREV_INUSE;
  w[qi + 3] = 0;
  w[footo >>> 2] = total;
  w[(footo >>> 2) + 1] = 0;
  return true;
}

/** Stores at unified offset o the address of the chunk or bin header at unified offset x. */
export function storeAt(m: WordMemory, o: number, x: number): void {
  const A = wordsOf(m, o), i = indexOf(o);
  const v = x >= 0 ? m.hb + x : m.lb + PAGE + x;
  A[i] = v >>> 0;
  A[i + 1] = (v / TWO32) >>> 0;
}
