// The swap device (mm/swapfile.c, mm/swap_state.c). swap_map[slot] counts the references to a
// slot (PTE swap entries, shmem entries) and has SWAP_HAS_CACHE while a page in the swap cache
// holds the slot's contents. A slot is free when both are gone. Page 0 of the device is the
// swap header, so SwapTotal is one page less than the device.
// Slots are taken next-fit from a cursor (the kernel scans clusters per CPU; the choice of slot
// is not observable in /proc). A slot taken for a swap-out is charged to the page's memcg
// (swap_cgroup records which) and uncharged when the slot is freed, by whichever path frees it.
import { N_FILE_PAGES, N_SWAPCACHE, SW_CURSOR, SW_FREE, SW_TOTAL } from './counters.js';
import { F_SWAPCACHE } from './frame-word.js';
import { chargeSwap, memcgSwapEvent, overSwapLimit } from './memcg.js';
import type { FramesState } from './state.js';

export const SWAP_HAS_CACHE = 0x8000;
export const SWAP_COUNT_MASK = 0x7fff;

export const swapCount = (s: FramesState, slot: number): number => s.swapMap[slot] & SWAP_COUNT_MASK;
export const swapHasCache = (s: FramesState, slot: number): boolean => (s.swapMap[slot] & SWAP_HAS_CACHE) !== 0;
export const slotInUse = (s: FramesState, slot: number): boolean => slot >= 1 && slot < s.swapMap.length && s.swapMap[slot] !== 0;

/** vm_swap_full(): more than half of swap is in use. */
export const vmSwapFull = (s: FramesState): boolean => s.ctr[SW_FREE] * 2 < s.ctr[SW_TOTAL];

/** get_swap_pages(): a free slot with count 1 (the reference the caller is about to store), or -1. */
export function allocSlot(s: FramesState): number {
  if (s.ctr[SW_FREE] <= 0) return -1;
  const n = s.swapMap.length;
  let slot = s.ctr[SW_CURSOR];
  for (let k = 1; k < n; k++) {
    if (slot >= n) slot = 1;
    if (s.swapMap[slot] === 0) {
      s.setSwap(slot, 1);
      s.ctr[SW_FREE]--;
      s.ctr[SW_CURSOR] = slot + 1;
      return slot;
    }
    slot++;
  }
  return -1;
}

/**
 * folio_alloc_swap() for a page of memcg m: a slot (count 1) charged to m, or -1. No free slot
 * counts "fail"; a charge over memory.swap.max of m or an ancestor counts "max" and "fail"
 * (__mem_cgroup_try_charge_swap). The kernel takes the slot first and gives it back when the
 * charge fails; checking the limit first gives the same outcome without moving the cursor.
 */
export function folioAllocSwap(s: FramesState, m: number): number {
  if (s.ctr[SW_FREE] <= 0) {
    memcgSwapEvent(s, m, 'fail');
    return -1;
  }
  if (overSwapLimit(s, m)) {
    memcgSwapEvent(s, m, 'max');
    memcgSwapEvent(s, m, 'fail');
    return -1;
  }
  const slot = allocSlot(s);
  if (slot < 0) return -1;
  if (m > 0) {
    chargeSwap(s, m, 1);
    s.setSwapCgroup(slot, m);
  }
  return slot;
}

/** swap_entry_free() -> mem_cgroup_uncharge_swap(): the slot's charge goes back to the memcg swap_cgroup recorded. */
function slotFreed(s: FramesState, slot: number): void {
  s.ctr[SW_FREE]++;
  const m = s.swapCgroup[slot];
  if (m === 0) return;
  chargeSwap(s, m, -1);
  s.setSwapCgroup(slot, 0);
}

/** Sets a slot's reference count, keeping SWAP_HAS_CACHE; frees the slot when nothing is left. */
export function setSwapCount(s: FramesState, slot: number, count: number): void {
  const v = (s.swapMap[slot] & SWAP_HAS_CACHE) | count;
  if (s.swapMap[slot] !== 0 && v === 0) slotFreed(s, slot);
  s.setSwap(slot, v);
}

/** Puts frame i in the swap cache for slot (add_to_swap_cache). */
export function swapCacheAdd(s: FramesState, i: number, slot: number): void {
  s.setSwap(slot, s.swapMap[slot] | SWAP_HAS_CACHE);
  s.setWord(i, s.word[i] | F_SWAPCACHE);
  s.swapCacheBySlot.set(slot, i);
  s.swapCacheByIdx.set(i, slot);
  s.undo(() => {
    s.swapCacheBySlot.delete(slot);
    s.swapCacheByIdx.delete(i);
  });
  s.ch.add(i, slot);
  s.ctr[N_SWAPCACHE]++;
  s.ctr[N_FILE_PAGES]++;
}

/** Takes frame i out of the swap cache (__delete_from_swap_cache); frees the slot if no references remain. */
export function swapCacheDel(s: FramesState, i: number): number {
  const slot = s.swapCacheByIdx.get(i);
  if (slot === undefined) throw new Error(`frames: frame ${i} is not in the swap cache`);
  s.swapCacheBySlot.delete(slot);
  s.swapCacheByIdx.delete(i);
  s.undo(() => {
    s.swapCacheBySlot.set(slot, i);
    s.swapCacheByIdx.set(i, slot);
  });
  s.ch.remove(i, slot);
  s.setWord(i, (s.word[i] & ~F_SWAPCACHE) >>> 0);
  const v = s.swapMap[slot] & SWAP_COUNT_MASK;
  if (v === 0) slotFreed(s, slot);
  s.setSwap(slot, v);
  s.ctr[N_SWAPCACHE]--;
  s.ctr[N_FILE_PAGES]--;
  return slot;
}
