// Putting a frame to use and taking it back: the bookkeeping every user page and kernel page
// goes through (LRU, counters, page cache, swap cache, memcg charge, owner handle).
import { LRU_UNEVICTABLE, MAX_PAGE_ORDER } from './constants.js';
import { E_PGFREE, MS, M_K_HEAD, M_K_SIZE, N_ANON, N_BDEV, N_FILE_PAGES, N_KERNEL, N_MLOCK, N_SHMEM, ZF_MLOCK, ZS, Z0 } from './counters.js';
import { freeOnePage, zoneOf } from './buddy.js';
import { F_SWAPCACHE, handleOf, kernelWord, lruOf, pageIndexOf, stateOf, ST_KERNEL, ST_USER, userWord } from './frame-word.js';
import { lruAdd, lruDel } from './lru.js';
import { chargeMemcg } from './memcg.js';
import { K_ANON, K_BDEV, K_SHMEM, isPageCache, refHandle } from './owners.js';
import { pcSet } from './page-cache.js';
import { swapCacheDel } from './swap.js';
import type { FramesState } from './state.js';
import { ringLinkBefore, ringUnlink } from './ring.js';

function countKind(s: FramesState, kind: number, d: number): void {
  if (kind === K_ANON) {
    s.ctr[N_ANON] += d;
    return;
  }
  s.ctr[N_FILE_PAGES] += d;
  if (kind === K_SHMEM) s.ctr[N_SHMEM] += d;
  else if (kind === K_BDEV) s.ctr[N_BDEV] += d;
}

/**
 * Makes frame i (fresh from the buddy allocator, word 0) a user page of handle h at `pageIndex`,
 * on list `lru` of memcg m (the charge is the caller's), and enters it in the page cache if
 * it is a file/shmem/bdev page.
 */
export function installUserPage(s: FramesState, i: number, h: number, m: number, pageIndex: number, lru: number, flags: number): void {
  const kind = s.handleKind[h];
  s.setWordIndex(i, userWord(h, lru, flags, pageIndex), pageIndex % 4294967296);
  refHandle(s, h, 1);
  lruAdd(s, m, lru, i);
  countKind(s, kind, 1);
  if (lru === LRU_UNEVICTABLE) {
    s.ctr[N_MLOCK]++;
    s.ctr[Z0 + zoneOf(s, i) * ZS + ZF_MLOCK]++;
  }
  if (isPageCache(kind)) pcSet(s, s.handleFile[h], pageIndex, i + 1);
}

export interface RemovedPage {
  readonly kind: number;
  readonly owner: number;
  readonly index: number;
  readonly memcg: number;
  readonly file: number;
  readonly handle: number;
}

/**
 * Takes user frame i off everything: its LRU list (unless the caller isolated it already), the
 * counters, the page cache (cacheEntry: what the page cache keeps for it: 0 nothing, or a
 * shmem swap entry), the swap cache, the memcg charge and the handle; then frees it to the buddy
 * allocator. The caller updates swap counts.
 */
export function removeUserPage(s: FramesState, i: number, onLru: boolean, cacheEntry: number): RemovedPage {
  const removed = detachUserPage(s, i, onLru, cacheEntry);
  chargeMemcg(s, removed.memcg, -1);
  refHandle(s, removed.handle, -1);
  freeOnePage(s, i, 0, zoneOf(s, i), false);
  s.ctr[E_PGFREE]++;
  return removed;
}

/** removeUserPage() without the memcg uncharge, the handle reference and the free (the caller batches those). */
export function detachUserPage(s: FramesState, i: number, onLru: boolean, cacheEntry: number): RemovedPage {
  const w = s.word[i];
  const h = handleOf(w);
  const kind = s.handleKind[h];
  const m = s.handleMemcg[h];
  const index = pageIndexOf(w, s.index[i]);
  const lru = lruOf(w);
  const file = s.handleFile[h];
  const removed: RemovedPage = { kind, owner: s.handleOwner[h], index, memcg: m, file, handle: h };
  if (onLru) lruDel(s, m, lru, i);
  countKind(s, kind, -1);
  if (lru === LRU_UNEVICTABLE) {
    s.ctr[N_MLOCK]--;
    s.ctr[Z0 + zoneOf(s, i) * ZS + ZF_MLOCK]--;
  }
  if (isPageCache(kind)) pcSet(s, file, index, cacheEntry);
  if ((w & F_SWAPCACHE) !== 0) swapCacheDel(s, i);
  s.setWordIndex(i, 0, 0);
  return removed;
}

/**
 * FreeUserPages of consecutive frames start..start+len-1 (all user pages): detached one by one,
 * uncharged per run of one owner, then given back in naturally aligned blocks. Freeing a block
 * of 2^k pages at once ends in the same free lists as freeing its pages one by one in
 * ascending order (the merges end the same way; intermediate list positions are undone).
 */
export function freeUserRange(s: FramesState, start: number, len: number): void {
  let h = -1;
  let m = -1;
  let n = 0;
  for (let i = start; i < start + len; i++) {
    const hi = handleOf(s.word[i]);
    if (hi !== h) {
      if (n > 0) {
        chargeMemcg(s, m, -n);
        refHandle(s, h, -n);
      }
      h = hi;
      m = s.handleMemcg[hi];
      n = 0;
    }
    detachUserPage(s, i, true, 0);
    n++;
  }
  if (n > 0) {
    chargeMemcg(s, m, -n);
    refHandle(s, h, -n);
  }
  let i = start;
  const end = start + len;
  while (i < end) {
    let order = 0;
    while (order < MAX_PAGE_ORDER && i % 2 ** (order + 1) === 0 && i + 2 ** (order + 1) <= end) order++;
    freeOnePage(s, i, order, zoneOf(s, i), false);
    i += 2 ** order;
  }
  s.ctr[E_PGFREE] += len;
}

export const isUserFrame = (s: FramesState, i: number): boolean => stateOf(s.word[i]) === ST_USER;

// ---- kernel pages: per memcg and kind, a circular list (head = most recent) -------------------

export function installKernelPage(s: FramesState, i: number, m: number, kind: number): void {
  s.setWord(i, kernelWord(m, kind));
  const hk = m * MS + M_K_HEAD + kind;
  ringLinkBefore(s, s.mcg[hk], i);
  s.setM(hk, i);
  s.addM(m * MS + M_K_SIZE + kind, 1);
  s.ctr[N_KERNEL + kind]++;
}

/** Frees the kernel page at the head (newest) or the tail (oldest) of memcg m's list of `kind`; returns its frame or -1. */
export function freeKernelPage(s: FramesState, m: number, kind: number, oldest: boolean): number {
  const hk = m * MS + M_K_HEAD + kind;
  const h = s.mcg[hk];
  if (h < 0) return -1;
  const i = oldest ? s.prev[h] : h;
  const n = ringUnlink(s, i);
  if (h === i) s.setM(hk, n);
  s.addM(m * MS + M_K_SIZE + kind, -1);
  s.ctr[N_KERNEL + kind]--;
  chargeMemcg(s, m, -1);
  s.setWord(i, 0);
  freeOnePage(s, i, 0, zoneOf(s, i), false);
  s.ctr[E_PGFREE]++;
  return i;
}

export const kernelPages = (s: FramesState, m: number, kind: number): number => s.mcg[m * MS + M_K_SIZE + kind];
export const isKernelFrame = (s: FramesState, i: number): boolean => stateOf(s.word[i]) === ST_KERNEL;

