// The fault path's fast lane. Most allocations cross no watermark and no memory.max: then a
// run of pages comes from one zone's free lists exactly as page-by-page allocation would give
// them, but with the bookkeeping done once per run. Same pages, same order, same counts: the
// slow lane (alloc.ts, one page at a time, with reclaim) takes over where the fast one stops.
//
// Why whole blocks: when the smallest non-empty order of the zone is o and at least 2^o pages
// are wanted, page-by-page allocation splits that block (expand() puts its halves at the head
// of the empty lower lists) and then hands out its pages in ascending order, leaving the lower
// lists empty again. Taking the block off its list and using its pages in order is the same.
import { LRU_UNEVICTABLE, NR_PAGE_ORDERS } from './constants.js';
import {
  E_MLOCKED, E_PGALLOC, MS, M_CURRENT, M_HIGH, M_LRU_HEAD, M_LRU_SIZE, M_MAX, M_PARENT, N_ANON, N_BDEV, N_FILE_PAGES, N_LRU,
  N_MLOCK, N_SHMEM, ZF_FREE, ZF_LRU, ZF_MLOCK, ZF_RESERVE, ZF_WLOW, ZS, Z0,
} from './counters.js';
import { rmqueueSmallest, takeFreeBlock } from './buddy.js';
import { userWord } from './frame-word.js';
import { pfnOfIdx } from './layout.js';
import { chargeMemcg } from './memcg.js';
import { K_ANON, K_BDEV, K_SHMEM, refHandle } from './owners.js';
import { pcSet } from './page-cache.js';
import type { PfnRuns } from './runs.js';
import type { FramesState } from './state.js';

/**
 * Pages memcg m can be charged before it or an ancestor reaches memory.max or memory.high (above
 * high, charges take the slow lane, which reclaims back to high).
 */
export function memcgRoom(s: FramesState, m: number): number {
  let room = Infinity;
  for (let a = m; a >= 0; a = s.mcg[a * MS + M_PARENT]) {
    const max = s.mcg[a * MS + M_MAX];
    const high = s.mcg[a * MS + M_HIGH];
    if (max >= 0) room = Math.min(room, max - s.mcg[a * MS + M_CURRENT]);
    if (high >= 0) room = Math.min(room, high - s.mcg[a * MS + M_CURRENT]);
  }
  return room;
}

/** The zone the fast path (LOW watermark) would take the next page from, and how many pages it can give that way; or -1. */
function fastZone(s: FramesState, classzone: number): number {
  for (let z = Math.min(classzone, 2); z >= 0; z--) {
    const b = Z0 + z * ZS;
    if (s.ctr[b + ZF_FREE] > s.ctr[b + ZF_WLOW] + s.ctr[b + ZF_RESERVE + classzone]) return z;
  }
  return -1;
}

/**
 * Allocates up to n user pages of handle h (kind, memcg m) by the fast path, starting at page
 * index `index`; returns how many it allocated (0: the slow path must take the next page).
 */
export function bulkAllocUser(s: FramesState, classzone: number, h: number, m: number, kind: number, index: number, n: number, lru: number, got: PfnRuns): number {
  const z = fastZone(s, classzone);
  if (z < 0) return 0;
  const b = Z0 + z * ZS;
  const room = memcgRoom(s, m);
  let want = Math.min(n, room, s.ctr[b + ZF_FREE] - (s.ctr[b + ZF_WLOW] + s.ctr[b + ZF_RESERVE + classzone]));
  if (want <= 0) return 0;
  const total = want;
  let at = index;
  while (want > 0) {
    let o = 0;
    while (o < NR_PAGE_ORDERS && s.freeHead[z * NR_PAGE_ORDERS + o] < 0) o++;
    let start: number;
    let len: number;
    if (o < NR_PAGE_ORDERS && 2 ** o <= want) {
      start = takeFreeBlock(s, z, o);
      len = 2 ** o;
    } else {
      start = rmqueueSmallest(s, z, 0);
      len = 1;
    }
    installRange(s, start, len, h, m, kind, at, lru, z);
    got.pushRange(pfnOfIdx(start), len);
    at += len;
    want -= len;
  }
  s.ctr[E_PGALLOC + z] += total;
  chargeMemcg(s, m, total);
  refHandle(s, h, total);
  if (kind === K_ANON) {
    s.ctr[N_ANON] += total;
  } else {
    s.ctr[N_FILE_PAGES] += total;
    if (kind === K_SHMEM) s.ctr[N_SHMEM] += total;
    else if (kind === K_BDEV) s.ctr[N_BDEV] += total;
  }
  if (lru === LRU_UNEVICTABLE) {
    s.ctr[N_MLOCK] += total;
    s.ctr[b + ZF_MLOCK] += total;
    s.ctr[E_MLOCKED] += total;
  }
  return total;
}

/** Makes frames start..start+len-1 user pages at indexes index.. and links them at the head of the LRU list, oldest first. */
function installRange(s: FramesState, start: number, len: number, h: number, m: number, kind: number, index: number, lru: number, z: number): void {
  const file = s.handleFile[h];
  for (let j = 0; j < len; j++) {
    const pageIndex = index + j;
    s.setWordIndex(start + j, userWord(h, lru, 0, pageIndex), pageIndex % 4294967296);
    if (kind !== K_ANON) pcSet(s, file, pageIndex, start + j + 1);
  }
  // lruAdd() of start, start+1, ... in turn, done at once: the newest (start+len-1) is the head.
  const hk = m * MS + M_LRU_HEAD + lru;
  const head = s.mcg[hk];
  const tail = head < 0 ? -1 : s.prev[head];
  const last = start + len - 1;
  for (let j = 0; j < len; j++) {
    const i = start + j;
    s.setNext(i, j === 0 ? (head < 0 ? last : head) : i - 1);
    s.setPrev(i, j === len - 1 ? (head < 0 ? start : tail) : i + 1);
  }
  if (head >= 0) {
    s.setPrev(head, start);
    s.setNext(tail, last);
  }
  s.setM(hk, last);
  s.addM(m * MS + M_LRU_SIZE + lru, len);
  s.ctr[N_LRU + lru] += len;
  s.ctr[Z0 + z * ZS + ZF_LRU + lru] += len;
}
