// The two calls programs make most, a malloc served from the tcache and a free into it, done
// the way glibc does them (tcache.ts tcacheGet/tcachePut, int-free.ts _int_free's start: the
// same loads, checks and stores, in glibc's order), specialised to the common case: the
// tcache and the chunk lie in the brk heap (WordMemory's flat tier), and every page loaded and
// every block stored to was already accounted in this generation, so a load or store is one
// typed-array access with nothing to report, journal or mark.
//
// A fast path loads and checks everything before it stores anything; whenever something is
// out of the ordinary (another tier, a page not yet touched, a misaligned or corrupted link,
// the tcache_key found, a full bin) it gives up before its first store and the general path
// runs the call from the start. Its loads changed nothing, so the general path sees the same
// memory and reports the same touches. Inside a transaction (the heap aggregate) each call
// starts a new generation, so there the fast paths mostly give way to the general one.
import { CHUNK_HDR_SZ, MALLOC_ALIGN_MASK, MINSIZE, SIZE_SZ, TCACHE_ENTRIES_OFFSET } from '../constants.js';
import { freeToArenaFast } from './fast-free.js';
import { G, TCACHE_KEY_HI, TCACHE_KEY_LO, type HeapProcess } from '../process.js';

const TWO32 = 4294967296;
/** Words from here up are not exact as doubles; such links are left to the general path. */
const HI_EXACT = 0x200000;
/** Requests up to here are computed in small integers; larger ones are never tcache sizes. */
const SMALL_REQUEST = 0xffff;

/** A fast path's answer: done (a pointer result is in h.io[0]). */
export const FAST_DONE = 1;
/** A fast path's answer: the general path must run the call from the start. */
export const FAST_NO = -1;
/** mallocFast's answer when the tcache has nothing for the request: _int_malloc runs next. */
export const NOT_CACHED = -2;

/**
 * __libc_malloc(bytes) when the tcache has a chunk of its size: FAST_DONE with the user pointer
 * in h.io[0]; NOT_CACHED when the tcache holds nothing for the size (or does not hold the
 * size) and nothing else is out of the ordinary, so that _int_malloc comes next (fast-malloc.ts
 * may do it); FAST_NO when the general path must run the call.
 */
export function mallocFast(h: HeapProcess, bytes: number): number {
  const tc = h.tcache;
  // ptmalloc_init done, a tcache, and a small request (checked_request2size, csize2tidx)
  if (tc === 0 || h.g[G.Initialized] === 0 || !(bytes >= 0 && bytes <= SMALL_REQUEST)) return FAST_NO;
  const tbytes = bytes + SIZE_SZ + MALLOC_ALIGN_MASK < MINSIZE ? MINSIZE : (bytes + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;
  const tcIdx = (tbytes - MINSIZE + MALLOC_ALIGN_MASK) >>> 4;
  // a size the tcache does not hold: _int_malloc
  if (tcIdx >= h.g[G.TcacheBins]) return NOT_CACHED;
  const m = h.mem;
  const hb = m.hb, len = m.hlen, gen = m.gen, rg = m.hrGen, w = m.flat;
  const ca = tc - hb + tcIdx * 2;
  const ea = tc - hb + TCACHE_ENTRIES_OFFSET + tcIdx * 8;
  if (!(ca >= 0 && ea + 8 <= len) || rg[ca >>> 12] !== gen || rg[ea >>> 12] !== gen) return FAST_NO;
  // tcache->counts[tc_idx] > 0
  const cw = w[ca >>> 2];
  const count = (ca & 2) === 0 ? cw & 0xffff : cw >>> 16;
  // none cached: _int_malloc
  if (count === 0) return NOT_CACHED;
  // tcache_get: e = tcache->entries[tc_idx], aligned
  const ei = ea >>> 2;
  const eLo = w[ei], eHi = w[ei + 1];
  if ((eLo & 15) !== 0 || eHi >= HI_EXACT) return FAST_NO;
  const e = eLo + eHi * TWO32;
  const eo = e - hb;
  if (!(eo >= 0 && eo + 16 <= len) || rg[eo >>> 12] !== gen) return FAST_NO;
  const bg = m.hbGen;
  if (bg[ea >>> 9] !== gen || bg[ca >>> 9] !== gen || bg[(eo + 8) >>> 9] !== gen) return FAST_NO;
  // tcache->entries[tc_idx] = REVEAL_PTR (e->next)
  const s = Math.floor(e / 4096);
  const no = eo >>> 2;
  const nLo = (w[no] ^ (s >>> 0)) >>> 0;
  const nHi = (w[no + 1] ^ (Math.floor(s / TWO32) >>> 0)) >>> 0;
  h.revealedLo = nLo;
  h.revealedHi = nHi;
  w[ei] = nLo;
  w[ei + 1] = nHi;
  // --(tcache->counts[tc_idx])
  const c = (count - 1) & 0xffff;
  w[ca >>> 2] = (ca & 2) === 0 ? (cw & 0xffff0000) | c : (cw & 0xffff) | (c << 16);
  // e->key = 0
  w[no + 2] = 0;
  w[no + 3] = 0;
  h.io[0] = e;
  return FAST_DONE;
}

/**
 * __libc_free(mem) for mem in h.io[0], a chunk of the main arena: into the thread's tcache,
 * or past it (fast-free.ts). True when done, false when the general path must run the call.
 */
export function freeFast(h: HeapProcess): boolean {
  const p = h.io[0] - CHUNK_HDR_SZ;
  const tc = h.tcache;
  if (tc === 0) return false;
  const m = h.mem;
  const hb = m.hb, len = m.hlen, gen = m.gen, rg = m.hrGen, w = m.flat;
  const po = p - hb;
  if (!(po >= 0 && po + 32 <= len) || rg[(po + 8) >>> 12] !== gen) return false;
  // chunk_is_mmapped, arena_for_chunk, then _int_free's checks of p and its size
  const si = (po + 8) >>> 2;
  const sLo = w[si];
  if ((sLo & 6) !== 0 || w[si + 1] !== 0 || (po & 15) !== 0) return false;
  const size = sLo - (sLo & 7);
  if (size < MINSIZE || (size & 15) !== 0) return false;
  const tcIdx = (size - MINSIZE + 15) >>> 4;
  // a size the tcache does not hold: straight to the fastbins or the unsorted bin
  if (tcIdx >= h.g[G.TcacheBins]) return freeToArenaFast(h, po, size);
  // e->key == tcache_key: the double-free walk is the general path's
  const ko = po + 24;
  if (rg[ko >>> 12] !== gen) return false;
  const ki = ko >>> 2;
  if (w[ki] === TCACHE_KEY_LO && w[ki + 1] === TCACHE_KEY_HI) return false;
  // tcache->counts[tc_idx] < mp_.tcache_count
  const ca = tc - hb + tcIdx * 2;
  const ea = tc - hb + TCACHE_ENTRIES_OFFSET + tcIdx * 8;
  if (!(ca >= 0 && ea + 8 <= len) || rg[ca >>> 12] !== gen || rg[ea >>> 12] !== gen) return false;
  const cw = w[ca >>> 2];
  const count = (ca & 2) === 0 ? cw & 0xffff : cw >>> 16;
  // the bin is full: the fastbins or the unsorted bin
  if (count >= h.g[G.TcacheCount]) return freeToArenaFast(h, po, size);
  const ei = ea >>> 2;
  const oLo = w[ei], oHi = w[ei + 1];
  if (oHi >= HI_EXACT) return false;
  const bg = m.hbGen;
  if (bg[ko >>> 9] !== gen || bg[(po + 16) >>> 9] !== gen || bg[ea >>> 9] !== gen || bg[ca >>> 9] !== gen) return false;
  // tcache_put: e->key = tcache_key; e->next = PROTECT_PTR (&e->next, tcache->entries[tc_idx])
  w[ki] = TCACHE_KEY_LO;
  w[ki + 1] = TCACHE_KEY_HI;
  const e = p + 16;
  const s = Math.floor(e / 4096);
  const ni = (po + 16) >>> 2;
  w[ni] = ((s >>> 0) ^ oLo) >>> 0;
  w[ni + 1] = ((Math.floor(s / TWO32) >>> 0) ^ oHi) >>> 0;
  // tcache->entries[tc_idx] = e; ++(tcache->counts[tc_idx])
  w[ei] = e >>> 0;
  w[ei + 1] = Math.floor(e / TWO32) >>> 0;
  const c = (count + 1) & 0xffff;
  w[ca >>> 2] = (ca & 2) === 0 ? (cw & 0xffff0000) | c : (cw & 0xffff) | (c << 16);
  return true;
}
