// Zone watermarks, lowmem_reserve and totalreserve_pages, ported from mm/page_alloc.c.
// Pure functions of the zones' page counts and the sysctls, so tests can check them against
// numbers read from a real machine.
import { clamp, intSqrt, shr, type KernelProfile } from '../common/index.js';
import { SWAP_CLUSTER_MAX, ZONE_MODELS, ZONE_NORMAL } from './constants.js';

export interface ZoneWatermarks {
  readonly min: number;
  readonly low: number;
  readonly high: number;
  /** 6.x WMARK_PROMO (shown in zoneinfo); 2.6.18 has none (= high). */
  readonly promo: number;
}

export interface WatermarkInputs {
  readonly profile: KernelProfile;
  /**
   * Pages per zone index the formulas use: managed pages on 6.18 (zone_managed_pages),
   * present pages on 2.6.18 (zone->present_pages; there was no managed count).
   */
  readonly pages: readonly number[];
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;
}

/** include/linux/math.h mult_frac(x, n, d) without overflow of x * n. */
export const multFrac = (x: number, n: number, d: number): number => Math.floor(x / d) * n + Math.floor(((x % d) * n) / d);

/**
 * calculate_min_free_kbytes() (6.x; init_per_zone_pages_min() on 2.6.18) at boot:
 * lowmem_kbytes = nr_free_buffer_pages() * 4, where nr_free_buffer_pages() sums
 * (pages - high watermark) over the zones a GFP_USER allocation may use (DMA..Normal); at boot
 * the watermarks are still zero. min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to
 * [128, 262144] (6.x) or [128, 65536] (2.6.18). THP's set_recommended_min_free_kbytes() is not
 * modelled.
 */
export function defaultMinFreeKbytes(profile: KernelProfile, pages: readonly number[]): number {
  let buffer = 0;
  for (let z = 0; z <= ZONE_NORMAL && z < pages.length; z++) buffer += pages[z];
  const lowmemKbytes = buffer * 4;
  return clamp(intSqrt(lowmemKbytes * 16), 128, profile === 'linux-2.6.18' ? 65536 : 262144);
}

/**
 * 6.x __setup_per_zone_wmarks(): pages_min = min_free_kbytes / 4 is shared among the lowmem
 * zones (not highmem, not movable) in proportion to their pages; highmem/movable zones get
 * clamp(pages / 1024, SWAP_CLUSTER_MAX, 128). The gap between watermarks is
 * max(share / 4, pages * watermark_scale_factor / 10000): low = min + gap, high = min + 2 gap,
 * promo = min + 3 gap.
 * 2.6.18 setup_per_zone_pages_min(): low = min + share / 4, high = min + share / 2.
 */
export function setupWatermarks(inp: WatermarkInputs): ZoneWatermarks[] {
  const model = ZONE_MODELS[inp.profile];
  const pagesMin = shr(inp.minFreeKbytes, 2);
  let lowmemPages = 0;
  inp.pages.forEach((p, z) => {
    if (!model.cappedMin[z]) lowmemPages += p;
  });
  return inp.pages.map((p, z) => {
    // (u64)pages_min * pages / lowmem_pages
    const share = lowmemPages === 0 ? 0 : Math.floor((pagesMin * p) / lowmemPages);
    const min = model.cappedMin[z] ? clamp(Math.floor(p / 1024), SWAP_CLUSTER_MAX, 128) : share;
    if (inp.profile === 'linux-2.6.18') {
      const high = min + shr(share, 1);
      return { min, low: min + shr(share, 2), high, promo: high };
    }
    const gap = Math.max(shr(share, 2), multFrac(p, inp.watermarkScaleFactor, 10000));
    return { min, low: min + gap, high: min + 2 * gap, promo: min + 3 * gap };
  });
}

/**
 * setup_per_zone_lowmem_reserve(): for a zone i and a higher zone j, lowmem_reserve[j] is the
 * pages of zones i+1..j divided by sysctl_lowmem_reserve_ratio[i] (0 if that ratio is 0 or the
 * zone has no pages; 2.6.18 did not skip empty zones). An allocation whose highest usable zone
 * is j must leave that many pages free in zone i.
 */
export function lowmemReserve(profile: KernelProfile, pages: readonly number[]): number[][] {
  const ratio = ZONE_MODELS[profile].lowmemReserveRatio;
  const n = pages.length;
  return pages.map((p, i) => {
    const row = new Array<number>(n).fill(0);
    const clear = ratio[i] === 0 || (profile !== 'linux-2.6.18' && p === 0);
    let upper = 0;
    for (let j = i + 1; j < n; j++) {
      upper += pages[j];
      row[j] = clear ? 0 : Math.floor(upper / ratio[i]);
    }
    return row;
  });
}

/**
 * calculate_totalreserve_pages(): per zone, the largest lowmem_reserve plus the high watermark,
 * capped at the zone's pages. MemAvailable subtracts it; kswapd keeps it free.
 */
export function totalReservePages(pages: readonly number[], wm: readonly ZoneWatermarks[], reserve: readonly number[][]): number {
  let total = 0;
  pages.forEach((p, i) => {
    let max = 0;
    for (let j = i; j < reserve[i].length; j++) max = Math.max(max, reserve[i][j]);
    total += Math.min(p, max + wm[i].high);
  });
  return total;
}

/**
 * mm/vmscan.c inactive_is_low(): the inactive list is low when inactive * ratio < active, with
 * ratio = int_sqrt(10 * GiB of the two lists), or 1 below 1 GiB.
 */
export function inactiveIsLow(inactive: number, active: number): boolean {
  const gb = shr(inactive + active, 30 - 12);
  const ratio = gb ? intSqrt(10 * gb) : 1;
  return inactive * ratio < active;
}
