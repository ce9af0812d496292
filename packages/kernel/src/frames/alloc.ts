// The page allocator's entry (mm/page_alloc.c __alloc_pages): walk the zonelist from the
// highest allowed zone down (Normal -> DMA32 -> DMA), take a page from the first zone whose
// free pages stay above the LOW watermark plus its lowmem_reserve for the classzone; if none,
// the slow path wakes kswapd, retries against MIN, then reclaims directly and retries until
// reclaim makes no progress (then the caller OOMs). Order-0 pages only.
// Then the memcg charge (mem_cgroup_charge after the page is allocated, as do_anonymous_page
// does): over memory.max, reclaim within the memcg that is over; if that frees nothing, the
// charge fails (memory.events max counts every attempt: 1 + MAX_RECLAIM_RETRIES).
// memory.high never fails a charge: pages charged above it are reclaimed back from the memcg
// that is over (mm/memcontrol.c reclaim_high(), which the kernel runs from
// mem_cgroup_handle_over_high() every MEMCG_CHARGE_BATCH pages of a big allocation and on the
// return to user mode; the throttling sleep that follows is not modelled: time does not pass).
import { MAX_RECLAIM_RETRIES } from './constants.js';
import { E_ALLOCSTALL, E_PGALLOC, E_PGFREE, MS, M_CURRENT, M_HIGH, M_PARENT, ZF_FREE, ZF_RESERVE, ZF_WLOW, ZF_WMIN, ZS, Z0 } from './counters.js';
import { freeOnePage, rmqueueSmallest, zoneOf } from './buddy.js';
import { chargeMemcg, memcgEvent, overHigh, overLimit } from './memcg.js';
import { directReclaim, memcgReclaim, wakeKswapd } from './reclaim.js';
import type { EvictionLog } from './runs.js';
import type { FramesState } from './state.js';

/** get_page_from_freelist() for an order-0 page; `mark` is ZF_WLOW or ZF_WMIN. */
function getPageFromFreelist(s: FramesState, classzone: number, mark: number): number {
  for (let z = Math.min(classzone, 2); z >= 0; z--) {
    const b = Z0 + z * ZS;
    if (s.ctr[b + ZF_FREE] > s.ctr[b + mark] + s.ctr[b + ZF_RESERVE + classzone]) {
      const i = rmqueueSmallest(s, z, 0);
      if (i >= 0) {
        s.ctr[E_PGALLOC + z]++;
        return i;
      }
    }
  }
  return -1;
}

/** An order-0 frame for an allocation whose highest zone is `classzone`, or -1 (out of memory). */
export function allocFrame(s: FramesState, ev: EvictionLog, classzone: number, allowReclaim: boolean): number {
  let i = getPageFromFreelist(s, classzone, ZF_WLOW);
  if (i >= 0) return i;
  wakeKswapd(s, classzone);
  i = getPageFromFreelist(s, classzone, ZF_WMIN);
  if (i >= 0 || !allowReclaim) return i;
  for (;;) {
    s.ctr[E_ALLOCSTALL + (s.profile === 'linux-2.6.18' ? 0 : classzone)]++;
    const reclaimed = directReclaim(s, ev);
    i = getPageFromFreelist(s, classzone, ZF_WMIN);
    if (i >= 0 || reclaimed === 0) return i;
  }
}

/** Gives back a frame that was allocated but not used (a failed charge). */
export function unallocFrame(s: FramesState, i: number): void {
  freeOnePage(s, i, 0, zoneOf(s, i), false);
  s.ctr[E_PGFREE]++;
}

/** try_charge_memcg() for one page: -1 if charged, else the memcg index whose limit failed it. */
export function tryCharge(s: FramesState, ev: EvictionLog, m: number, allowReclaim: boolean): number {
  for (;;) {
    const over = overLimit(s, m, 1);
    if (over < 0) {
      chargeMemcg(s, m, 1);
      if (overHigh(s, m)) {
        s.overHighPages++;
        if (s.overHighPages >= MEMCG_CHARGE_BATCH && allowReclaim) reclaimHigh(s, ev, m);
      }
      return -1;
    }
    memcgEvent(s, over, 'max');
    if (!allowReclaim) return over;
    if (memcgReclaim(s, ev, over, 1) === 0) {
      // The kernel retries MAX_RECLAIM_RETRIES times, counting "max" each time, before it OOMs.
      for (let k = 0; k < MAX_RECLAIM_RETRIES; k++) memcgEvent(s, over, 'max');
      return over;
    }
  }
}

/** include/linux/memcontrol.h MEMCG_CHARGE_BATCH: how often a big allocation stops to reclaim above memory.high. */
export const MEMCG_CHARGE_BATCH = 64;

/**
 * reclaim_high(): every memcg from m up that is above memory.high counts a "high" event and is
 * reclaimed by the pages charged above it since the last time. No OOM whatever it gets.
 */
export function reclaimHigh(s: FramesState, ev: EvictionLog, m: number): void {
  const n = s.overHighPages;
  s.overHighPages = 0;
  if (n === 0 || m < 0) return;
  for (let a = m; a >= 0; a = s.mcg[a * MS + M_PARENT]) {
    const high = s.mcg[a * MS + M_HIGH];
    if (high < 0 || s.mcg[a * MS + M_CURRENT] <= high) continue;
    memcgEvent(s, a, 'high');
    memcgReclaim(s, ev, a, n);
  }
}
