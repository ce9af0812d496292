// The per-thread cache. malloc/malloc.c: tcache_put(), tcache_get(), tcache_init(),
// tcache_thread_shutdown(). The tcache_perthread_struct lives in a heap chunk (0x290):
// uint16_t counts[64] at +0, tcache_entry *entries[64] at +128. An entry overlays the
// chunk's user data: next (safe-linked) at +0, key at +8.
import { TCACHE_ENTRIES_OFFSET, TCACHE_STRUCT_SIZE } from '../constants.js';
import { TCACHE_KEY_HI, TCACHE_KEY_LO, type HeapProcess } from '../process.js';
import { loadRevealed, malloc_printerr, storeProtected, storeRevealed } from './arena-state.js';
import { arenaGet, arenaGetRetry } from './arena.js';
import { intMalloc } from './int-malloc.js';

export const tcacheCount = (h: HeapProcess, tc: number, idx: number): number => h.mem.rd16(tc + idx * 2);
export const tcacheEntry = (h: HeapProcess, tc: number, idx: number): number => h.mem.rd(tc + TCACHE_ENTRIES_OFFSET + idx * 8);

/** tcache_put(chunk, tc_idx); `count` is counts[tc_idx] when the caller just loaded it. */
export function tcachePut(h: HeapProcess, chunk: number, idx: number, count = -1): void {
  const tc = h.tcache;
  const e = chunk + 16;
  const m = h.mem;
  m.wrHalves(e + 8, TCACHE_KEY_LO, TCACHE_KEY_HI);
  const ea = tc + TCACHE_ENTRIES_OFFSET + idx * 8;
  storeProtected(h, e, m.rd(ea));
  m.wr(ea, e);
  const ca = tc + idx * 2;
  m.wr16(ca, ((count >= 0 ? count : m.rd16(ca)) + 1) & 0xffff);
}

/** tcache_get(tc_idx): the user pointer of the newest entry; `count` as in tcachePut. */
export function tcacheGet(h: HeapProcess, idx: number, count = -1): number {
  const tc = h.tcache;
  const m = h.mem;
  const ea = tc + TCACHE_ENTRIES_OFFSET + idx * 8;
  m.rdPair(ea);
  const lo = m.lo;
  const e = lo + m.hi * 4294967296;
  if ((lo & 15) !== 0) malloc_printerr('malloc(): unaligned tcache chunk detected');
  loadRevealed(h, e);
  storeRevealed(h, ea);
  const ca = tc + idx * 2;
  m.wr16(ca, ((count >= 0 ? count : m.rd16(ca)) - 1) & 0xffff);
  m.wrHalves(e + 8, 0, 0);
  return e;
}

/** The tcache_key check of _int_free: is e->key the key? */
export const hasTcacheKey = (h: HeapProcess, e: number): boolean =>
  h.mem.rdLo(e + 8) === TCACHE_KEY_LO && h.mem.rdHi(e + 8) === TCACHE_KEY_HI;

/** tcache_init(): the thread's tcache_perthread_struct, from its arena. */
export function tcacheInit(h: HeapProcess): void {
  if (h.tcacheShuttingDown) return;
  const bytes = TCACHE_STRUCT_SIZE;
  let arPtr = arenaGet(h, bytes);
  let victim = intMalloc(h, arPtr, bytes);
  if (victim === 0 && arPtr !== 0) {
    arPtr = arenaGetRetry(h, arPtr, bytes);
    victim = intMalloc(h, arPtr, bytes);
  }
  if (victim !== 0) {
    h.setTcache(victim);
    h.mem.fill(victim, TCACHE_STRUCT_SIZE, 0);
  }
}

/** MAYBE_INIT_TCACHE() */
export function maybeInitTcache(h: HeapProcess): void {
  if (h.tcache === 0) tcacheInit(h);
}
