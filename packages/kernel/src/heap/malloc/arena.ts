// malloc/arena.c: which arena a thread allocates from. arena_get(), arena_get2(),
// _int_new_arena(), get_free_list(), reused_arena(), arena_get_retry(), arena_for_chunk().
// Locks are never contended in a simulation, so reused_arena's trylock always succeeds on the
// first arena it tries.
import {
  CHUNK_HDR_SZ,
  HEAP_INFO_SIZE,
  MALLOC_ALIGNMENT,
  MALLOC_STATE_SIZE,
  narenasFromNcores,
  NON_MAIN_ARENA,
  PREV_INUSE,
} from '../constants.js';
import { G, MAIN_ARENA, type HeapProcess } from '../process.js';
import {
  arenaNext,
  arenaNextFree,
  attachedThreads,
  mallocInitState,
  setArenaNext,
  setArenaNextFree,
  setAttachedThreads,
  setHead,
  setMaxSystemMem,
  setSystemMem,
  setTop,
} from './arena-state.js';
import { heapArena, heapForPtr, heapSize, newHeap } from './heap.js';

/** arena_for_chunk(p) */
export function arenaForChunk(h: HeapProcess, p: number): number {
  return (h.flags(p) & NON_MAIN_ARENA) === 0 ? MAIN_ARENA : heapArena(h, heapForPtr(p));
}

/** arena_get(ptr, size): the thread's arena, or one picked for it. 0: none usable. */
export function arenaGet(h: HeapProcess, size: number): number {
  const a = h.threadArena;
  if (a !== 0) return a;
  return arenaGet2(h, size, 0);
}

/** detach_arena(replaced) */
function detachArena(h: HeapProcess, replaced: number): void {
  if (replaced !== 0) setAttachedThreads(h, replaced, attachedThreads(h, replaced) - 1);
}

/** _int_new_arena(size): a heap of its own for a new arena, attached to this thread. */
function intNewArena(h: HeapProcess, size: number): number {
  const overhead = HEAP_INFO_SIZE + MALLOC_STATE_SIZE + MALLOC_ALIGNMENT;
  let heap = newHeap(h, size + overhead, h.g[G.TopPad]);
  if (heap === 0) {
    heap = newHeap(h, overhead, h.g[G.TopPad]);
    if (heap === 0) return 0;
  }
  const a = heap + HEAP_INFO_SIZE;
  h.mem.wr(heap, a);
  mallocInitState(h, a);
  setAttachedThreads(h, a, 1);
  const hs = heapSize(h, heap);
  setSystemMem(h, a, hs);
  setMaxSystemMem(h, a, hs);
  let ptr = a + MALLOC_STATE_SIZE;
  const misalign = (ptr + CHUNK_HDR_SZ) % MALLOC_ALIGNMENT;
  if (misalign > 0) ptr += MALLOC_ALIGNMENT - misalign;
  setTop(h, a, ptr);
  setHead(h, ptr, heap + hs - ptr + PREV_INUSE);
  const replaced = h.threadArena;
  h.threadArena = a;
  setArenaNext(h, a, arenaNext(h, MAIN_ARENA));
  setArenaNext(h, MAIN_ARENA, a);
  detachArena(h, replaced);
  return a;
}

/** get_free_list(): an arena whose threads all exited. */
function getFreeList(h: HeapProcess): number {
  const replaced = h.threadArena;
  const result = h.g[G.FreeList];
  if (result !== 0) {
    h.set(G.FreeList, arenaNextFree(h, result));
    setAttachedThreads(h, result, 1);
    detachArena(h, replaced);
    h.threadArena = result;
  }
  return result;
}

/** remove_from_free_list(arena) */
function removeFromFreeList(h: HeapProcess, arena: number): void {
  let prevSlot = -1;
  for (let p = h.g[G.FreeList]; p !== 0; p = arenaNextFree(h, p)) {
    if (p === arena) {
      if (prevSlot < 0) h.set(G.FreeList, arenaNextFree(h, p));
      else setArenaNextFree(h, prevSlot, arenaNextFree(h, p));
      break;
    }
    prevSlot = p;
  }
}

/** reused_arena(avoid): the next arena in list order (no lock is ever busy here). */
function reusedArena(h: HeapProcess, avoid: number): number {
  void avoid;
  if (h.g[G.NextToUse] === 0) h.set(G.NextToUse, MAIN_ARENA);
  const result = h.g[G.NextToUse];
  const replaced = h.threadArena;
  detachArena(h, replaced);
  removeFromFreeList(h, result);
  setAttachedThreads(h, result, attachedThreads(h, result) + 1);
  h.threadArena = result;
  h.set(G.NextToUse, arenaNext(h, result));
  return result;
}

/** arena_get2(size, avoid_arena) */
export function arenaGet2(h: HeapProcess, size: number, avoid: number): number {
  let a = getFreeList(h);
  if (a === 0) {
    if (h.g[G.NarenasLimit] === 0) {
      if (h.g[G.ArenaMax] !== 0) h.set(G.NarenasLimit, h.g[G.ArenaMax]);
      else if (h.g[G.Narenas] > h.g[G.ArenaTest]) {
        const n = h.config.cpus;
        h.set(G.NarenasLimit, narenasFromNcores(n >= 1 ? n : 2));
      }
    }
    const n = h.g[G.Narenas];
    // n <= narenas_limit - 1, with size_t wrap-around when the limit is still 0
    const limit = h.g[G.NarenasLimit];
    if (limit === 0 || n <= limit - 1) {
      h.set(G.Narenas, n + 1);
      a = intNewArena(h, size);
      if (a === 0) h.set(G.Narenas, h.g[G.Narenas] - 1);
    } else {
      a = reusedArena(h, avoid);
    }
  }
  return a;
}

/** arena_get_retry(ar_ptr, bytes) */
export function arenaGetRetry(h: HeapProcess, arPtr: number, bytes: number): number {
  if (arPtr !== MAIN_ARENA) return MAIN_ARENA;
  return arenaGet2(h, bytes, arPtr);
}

/** __malloc_arena_thread_freeres() after tcache_thread_shutdown(): a thread exits. */
export function arenaThreadFreeres(h: HeapProcess): void {
  const a = h.threadArena;
  h.threadArena = 0;
  if (a !== 0) {
    const n = attachedThreads(h, a) - 1;
    setAttachedThreads(h, a, n);
    if (n === 0) {
      setArenaNextFree(h, a, h.g[G.FreeList]);
      h.set(G.FreeList, a);
    }
  }
}
