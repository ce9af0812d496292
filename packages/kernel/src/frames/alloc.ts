// The page allocator's entry (mm/page_alloc.c __alloc_pages): walk the zonelist from the
// highest allowed zone down (Normal -> DMA32 -> DMA), take a page from the first zone whose
// free pages stay above the LOW watermark plus its lowmem_reserve for the classzone; if none,
// the slow path wakes kswapd, retries against MIN, then reclaims directly and retries until
// reclaim makes no progress (then the caller OOMs). Order-0 pages only.
// Then the memcg charge (mem_cgroup_charge after the page is allocated, as do_anonymous_page
// does): over memory.max, reclaim within the memcg that is over; if that frees nothing, the
// charge fails (memory.events max counts every attempt: 1 + MAX_RECLAIM_RETRIES).
import { MAX_RECLAIM_RETRIES } from './constants.js';
import { E_ALLOCSTALL, E_PGALLOC, E_PGFREE, ZF_FREE, ZF_RESERVE, ZF_WLOW, ZF_WMIN, ZS, Z0 } from './counters.js';
import { freeOnePage, rmqueueSmallest, zoneOf } from './buddy.js';
import { chargeMemcg, memcgEvent, overLimit } from './memcg.js';
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
