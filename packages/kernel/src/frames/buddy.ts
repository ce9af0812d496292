// The buddy allocator (mm/page_alloc.c): per zone, one free list per order 0..MAX_PAGE_ORDER of
// naturally aligned blocks of 2^order frames. Allocation takes the first block of the smallest
// order that has one (__rmqueue_smallest) and splits it, putting the upper halves back on the
// lower orders' lists (expand); freeing merges a block with its buddy (pfn ^ (1 << order))
// while the buddy is free with the same order (__free_one_page).
// Not modelled: migrate types (one list per order, as if everything were MOVABLE), per-cpu
// page lists, page shuffling, compaction.
import { MAX_PAGE_ORDER, NR_PAGE_ORDERS } from './constants.js';
import { ZF_FREE, ZF_NRFREE, ZS, Z0 } from './counters.js';
import { buddyWord, F_BUDDY, ORDER_SHIFT } from './frame-word.js';
import type { FramesState } from './state.js';
import { ringLinkBefore, ringUnlink } from './ring.js';

export const zoneOf = (s: FramesState, i: number): number => (i < s.z1 ? 0 : i < s.z2 ? 1 : 2);

const listKey = (zone: number, order: number): number => zone * NR_PAGE_ORDERS + order;

/** Adds block i to a free list, at the head or (to_tail) at the tail; circular list through next/prev. */
function addToFreeList(s: FramesState, zone: number, order: number, i: number, toTail: boolean): void {
  const k = listKey(zone, order);
  const h = s.freeHead[k];
  ringLinkBefore(s, h, i);
  if (h < 0 || !toTail) s.setFreeHead(k, i);
  s.setWord(i, buddyWord(order));
  const z = Z0 + zone * ZS;
  s.ctr[z + ZF_NRFREE + order]++;
  s.ctr[z + ZF_FREE] += 2 ** order;
}

function delFromFreeList(s: FramesState, zone: number, order: number, i: number): void {
  const k = listKey(zone, order);
  const n = ringUnlink(s, i);
  if (s.freeHead[k] === i) s.setFreeHead(k, n);
  s.setWord(i, 0);
  const z = Z0 + zone * ZS;
  s.ctr[z + ZF_NRFREE + order]--;
  s.ctr[z + ZF_FREE] -= 2 ** order;
}

/** page_is_buddy(): frame b heads a free block of this order in this zone. */
function isBuddy(s: FramesState, b: number, order: number, zone: number): boolean {
  return b >= 0 && b < s.nFrames && s.word[b] === (F_BUDDY | (order << ORDER_SHIFT)) && zoneOf(s, b) === zone;
}

/**
 * __rmqueue_smallest(): a free block of at least 2^order frames from the zone, split down to
 * 2^order (expand() puts each upper half at the head of its list). Returns the first frame or
 * -1. The caller has checked the watermarks; the returned frames have word 0.
 */
export function rmqueueSmallest(s: FramesState, zone: number, order: number): number {
  for (let o = order; o < NR_PAGE_ORDERS; o++) {
    const i = s.freeHead[listKey(zone, o)];
    if (i < 0) continue;
    delFromFreeList(s, zone, o, i);
    let high = o;
    let size = 2 ** high;
    while (high > order) {
      high--;
      size /= 2;
      addToFreeList(s, zone, high, i + size, false);
    }
    return i;
  }
  return -1;
}

/** Takes the block at the head of the order-o list (bulk.ts: all its pages are about to be used). */
export function takeFreeBlock(s: FramesState, zone: number, o: number): number {
  const i = s.freeHead[listKey(zone, o)];
  delFromFreeList(s, zone, o, i);
  return i;
}

/**
 * __free_one_page(): returns the 2^order frames at i (word 0) to the zone's free lists, merging
 * with free buddies. 6.x (buddy_merge_likely) puts the block at the tail when its buddy one
 * order up is free, so the pair is more likely to merge before being reused; FPI_TO_TAIL
 * (boot) always uses the tail; 2.6.18 always used the head.
 */
export function freeOnePage(s: FramesState, i: number, order: number, zone: number, forceTail: boolean): void {
  let idx = i;
  let o = order;
  while (o < MAX_PAGE_ORDER) {
    const buddy = idx ^ (1 << o);
    if (!isBuddy(s, buddy, o, zone)) break;
    delFromFreeList(s, zone, o, buddy);
    idx = idx & buddy;
    o++;
  }
  let toTail = forceTail;
  if (!toTail && s.profile !== 'linux-2.6.18' && o < MAX_PAGE_ORDER - 1) {
    // buddy_merge_likely(): the combined block's buddy one order up is free.
    const higherPage = idx & ~(1 << o); // buddy_pfn & pfn
    toTail = isBuddy(s, higherPage ^ (1 << (o + 1)), o + 1, zone);
  }
  addToFreeList(s, zone, o, idx, toTail);
}

/**
 * memblock_free_all() at boot: each free range is handed over in naturally aligned blocks of
 * up to MAX_PAGE_ORDER (__free_pages_memory), each freed to the tail with merging.
 */
export function freeRangeAtBoot(s: FramesState, start: number, end: number): void {
  let i = start;
  while (i < end) {
    let order = Math.min(MAX_PAGE_ORDER, i === 0 ? MAX_PAGE_ORDER : ffs(i));
    while (i + 2 ** order > end) order--;
    freeOnePage(s, i, order, zoneOf(s, i), true);
    i += 2 ** order;
  }
}

/** __ffs(): index of the lowest set bit. */
function ffs(x: number): number {
  let n = 0;
  while (n < 31 && x % 2 ** (n + 1) === 0) n++;
  return n;
}

/** free_area[order].nr_free per order for a zone (buddyinfo). */
export function nrFreeByOrder(s: FramesState, zone: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < NR_PAGE_ORDERS; o++) out.push(s.ctr[Z0 + zone * ZS + ZF_NRFREE + o]);
  return out;
}
