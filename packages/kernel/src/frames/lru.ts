// The LRU lists (mm/swap.c, include/linux/mm_inline.h). Each memcg has its own lruvec, as in
// cgroup v2: five circular lists (inactive/active x anon/file, unevictable) through the frames'
// next/prev links. New pages go to the head; reclaim takes from the tail (the oldest).
// Node-wide and per-zone counts are kept alongside (nr_inactive_anon... in vmstat).
import { MS, M_LRU_HEAD, M_LRU_SIZE, N_LRU, ZF_LRU, ZS, Z0 } from './counters.js';
import { zoneOf } from './buddy.js';
import type { FramesState } from './state.js';
import { ringLinkBefore, ringUnlink } from './ring.js';

/** Adds frame i at the head of list `lru` of memcg m. */
export function lruAdd(s: FramesState, m: number, lru: number, i: number): void {
  const hk = m * MS + M_LRU_HEAD + lru;
  ringLinkBefore(s, s.mcg[hk], i);
  s.setM(hk, i);
  s.addM(m * MS + M_LRU_SIZE + lru, 1);
  s.ctr[N_LRU + lru]++;
  s.ctr[Z0 + zoneOf(s, i) * ZS + ZF_LRU + lru]++;
}

/** Adds frame i at the tail of the list (the next to be scanned). */
export function lruAddTail(s: FramesState, m: number, lru: number, i: number): void {
  const hk = m * MS + M_LRU_HEAD + lru;
  const h = s.mcg[hk];
  lruAdd(s, m, lru, i);
  if (h >= 0) s.setM(hk, h); // inserted before the old head, which stays the head: i is the new tail
}

export function lruDel(s: FramesState, m: number, lru: number, i: number): void {
  const hk = m * MS + M_LRU_HEAD + lru;
  const n = ringUnlink(s, i);
  if (s.mcg[hk] === i) s.setM(hk, n);
  s.addM(m * MS + M_LRU_SIZE + lru, -1);
  s.ctr[N_LRU + lru]--;
  s.ctr[Z0 + zoneOf(s, i) * ZS + ZF_LRU + lru]--;
}

/** The tail (oldest) frame of a list, or -1. */
export function lruTail(s: FramesState, m: number, lru: number): number {
  const h = s.mcg[m * MS + M_LRU_HEAD + lru];
  return h < 0 ? -1 : s.prev[h];
}

export const lruSize = (s: FramesState, m: number, lru: number): number => s.mcg[m * MS + M_LRU_SIZE + lru];
