// Memory cgroups (cgroup v2, mm/memcontrol.c) as far as frames needs them: a tree of memcgs,
// memory.current (pages charged to the memcg and its descendants), memory.max, and
// memory.events (hierarchical) / memory.events.local. Index 0 is the root (id 0), which has
// no limit. Each memcg has its own LRU lists (lru.ts), so reclaim can target a subtree.
// Swap is charged apart from memory (cgroup v2's memcg->swap counter): a slot is charged to the
// memcg of the page written to it when it is allocated for swap-out, and uncharged when the slot
// is freed (swap.ts), not at swap-in; memory.swap.max caps that charge up the tree. The root
// memcg is never charged for swap and has no swap files.
import { invalid } from '../common/index.js';
import {
  MEMCG_EVENTS, MEMCG_SWAP_EVENTS, MS, M_CURRENT, M_EV, M_EVL, M_HIGH, M_ID, M_MAX, M_PARENT, M_SWAP_CURRENT, M_SWAP_EV, M_SWAP_MAX,
  SW_FREE, SW_TOTAL, T_MEMCGS, type MemcgEventKind, type MemcgSwapEventKind,
} from './counters.js';
import type { FramesState } from './state.js';

export const UNLIMITED = -1;
export const MAX_MEMCGS = 65535;

export const memcgCount = (s: FramesState): number => s.ctr[T_MEMCGS];
export const memcgParent = (s: FramesState, m: number): number => s.mcg[m * MS + M_PARENT];
export const memcgId = (s: FramesState, m: number): number => s.mcg[m * MS + M_ID];
export const memcgCurrent = (s: FramesState, m: number): number => s.mcg[m * MS + M_CURRENT];
export const memcgMax = (s: FramesState, m: number): number => s.mcg[m * MS + M_MAX];
/** memory.high in pages; -1: "max". */
export const memcgHigh = (s: FramesState, m: number): number => s.mcg[m * MS + M_HIGH];

/** Is memcg m or an ancestor above its memory.high? */
export function overHigh(s: FramesState, m: number): boolean {
  for (let a = m; a >= 0; a = s.mcg[a * MS + M_PARENT]) {
    const high = s.mcg[a * MS + M_HIGH];
    if (high >= 0 && s.mcg[a * MS + M_CURRENT] > high) return true;
  }
  return false;
}

export function validMemcgId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < 2 ** 32;
}

/** Adds a memcg row. */
export function createMemcg(s: FramesState, id: number, parent: number, max: number): number {
  const m = s.ctr[T_MEMCGS];
  if (m >= MAX_MEMCGS) throw invalid('frames.TOO_MANY_MEMCGS', `at most ${MAX_MEMCGS} memcgs`);
  s.ensureMemcgCapacity(m + 1);
  s.initMemcgRow(m, id, parent, max);
  s.ctr[T_MEMCGS] = m + 1;
  s.memcgIdx.set(id, m);
  s.undo(() => s.memcgIdx.delete(id));
  return m;
}

/** The index of memcg `id`; a memcg seen for the first time is created under the root with no limit. */
export function memcgIndex(s: FramesState, id: number): number {
  const m = s.memcgIdx.get(id);
  if (m !== undefined) return m;
  return createMemcg(s, id, 0, UNLIMITED);
}

/** The lowest memcg from m up that charging n more pages would push over memory.max, or -1. */
export function overLimit(s: FramesState, m: number, n: number): number {
  for (let a = m; a >= 0; a = s.mcg[a * MS + M_PARENT]) {
    const max = s.mcg[a * MS + M_MAX];
    if (max >= 0 && s.mcg[a * MS + M_CURRENT] + n > max) return a;
  }
  return -1;
}

/** page_counter_charge / uncharge up the tree (including the root). */
export function chargeMemcg(s: FramesState, m: number, n: number): void {
  for (let a = m; a >= 0; a = s.mcg[a * MS + M_PARENT]) s.addM(a * MS + M_CURRENT, n);
}

/** Is memcg a in the subtree of t? */
export function inSubtree(s: FramesState, a: number, t: number): boolean {
  for (let x = a; x >= 0; x = s.mcg[x * MS + M_PARENT]) if (x === t) return true;
  return false;
}

/** mem_cgroup_iter() order: the subtree of t, parents before children, siblings by creation. */
export function subtree(s: FramesState, t: number): number[] {
  const n = s.ctr[T_MEMCGS];
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let m = 1; m < n; m++) children[s.mcg[m * MS + M_PARENT]].push(m);
  const out: number[] = [];
  const walk = (m: number): void => {
    out.push(m);
    for (const c of children[m]) walk(c);
  };
  walk(t);
  return out;
}

/** memcg_memory_event(): counts in the memcg's memory.events.local, and in memory.events of it and its ancestors below the root. */
export function memcgEvent(s: FramesState, m: number, kind: MemcgEventKind): void {
  const e = MEMCG_EVENTS.indexOf(kind);
  s.addM(m * MS + M_EVL + e, 1);
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) s.addM(a * MS + M_EV + e, 1);
  if (m === 0) s.addM(M_EV + e, 1);
}

// ---- swap ---------------------------------------------------------------------------------

/** memory.swap.max in pages; -1: "max". */
export const memcgSwapMax = (s: FramesState, m: number): number => s.mcg[m * MS + M_SWAP_MAX];
/** memory.swap.current in pages (the memcg and its descendants). */
export const memcgSwapCurrent = (s: FramesState, m: number): number => s.mcg[m * MS + M_SWAP_CURRENT];

/**
 * mem_cgroup_get_nr_swap_pages(): the free swap slots memcg m may still take, the smallest of
 * the free slots and of swap.max - swap.current of m and each ancestor below the root.
 */
export function memcgNrSwapPages(s: FramesState, m: number): number {
  let n = s.ctr[SW_FREE];
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) {
    const max = s.mcg[a * MS + M_SWAP_MAX];
    if (max >= 0) n = Math.min(n, max - s.mcg[a * MS + M_SWAP_CURRENT]);
  }
  return n;
}

/** Would one more swap page push m or an ancestor below the root over memory.swap.max? (page_counter_try_charge fails) */
export function overSwapLimit(s: FramesState, m: number): boolean {
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) {
    const max = s.mcg[a * MS + M_SWAP_MAX];
    if (max >= 0 && s.mcg[a * MS + M_SWAP_CURRENT] + 1 > max) return true;
  }
  return false;
}

/** page_counter_charge / uncharge of memcg->swap, up the tree below the root. */
export function chargeSwap(s: FramesState, m: number, n: number): void {
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) s.addM(a * MS + M_SWAP_CURRENT, n);
}

/**
 * mem_cgroup_swap_full(): vm_swap_full(), or m or an ancestor below the root uses half of its
 * memory.swap.max (memory.swap.high is not modelled: "max").
 */
export function memcgSwapFull(s: FramesState, m: number): boolean {
  if (s.ctr[SW_FREE] * 2 < s.ctr[SW_TOTAL]) return true;
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) {
    const max = s.mcg[a * MS + M_SWAP_MAX];
    if (max >= 0 && s.mcg[a * MS + M_SWAP_CURRENT] * 2 >= max) return true;
  }
  return false;
}

/** memcg_memory_event() for memory.swap.events: m and its ancestors below the root (the root has no such file). */
export function memcgSwapEvent(s: FramesState, m: number, kind: MemcgSwapEventKind): void {
  const e = MEMCG_SWAP_EVENTS.indexOf(kind);
  for (let a = m; a > 0; a = s.mcg[a * MS + M_PARENT]) s.addM(a * MS + M_SWAP_EV + e, 1);
}

/** Does any memcg use swap accounting (a swap.max set, swap charged, a swap event)? */
export function swapAccounted(s: FramesState): boolean {
  const n = s.ctr[T_MEMCGS];
  for (let m = 1; m < n; m++) {
    const b = m * MS;
    if (s.mcg[b + M_SWAP_MAX] !== -1 || s.mcg[b + M_SWAP_CURRENT] !== 0) return true;
    for (let e = 0; e < MEMCG_SWAP_EVENTS.length; e++) if (s.mcg[b + M_SWAP_EV + e] !== 0) return true;
  }
  return false;
}
