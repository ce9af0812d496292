// Kernel constants the frames model ports (x86-64, 4 KiB pages).
import type { KernelProfile } from '../common/index.js';

/** include/linux/mmzone.h: MAX_PAGE_ORDER (6.x; MAX_ORDER - 1 in 2.6.18), NR_PAGE_ORDERS. */
export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = 11;

/** include/linux/swap.h */
export const SWAP_CLUSTER_MAX = 32;
/** mm/vmscan.c */
export const DEF_PRIORITY = 12;
/** mm/internal.h */
export const MAX_RECLAIM_RETRIES = 16;
/** include/linux/swap.h (6.x: swappiness 0..200) */
export const MAX_SWAPPINESS = 200;

/** Zone indexes (enum zone_type). Index 3 is ZONE_MOVABLE on 6.18 and ZONE_HIGHMEM on 2.6.18. */
export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const ZONE_3 = 3;
export const ZONE_DEVICE = 4;

export interface ZoneModel {
  /** zone_names[] of the kernel, in zone index order. */
  readonly names: readonly string[];
  /** sysctl_lowmem_reserve_ratio[] by zone index (0: no reserve). */
  readonly lowmemReserveRatio: readonly number[];
  /** Zones that are "highmem or movable" for __setup_per_zone_wmarks (min capped to 32..128). */
  readonly cappedMin: readonly boolean[];
  /** highest_zoneidx of a GFP_HIGHUSER_MOVABLE (6.x) / GFP_HIGHUSER (2.6.18) allocation. */
  readonly userClassZone: number;
  /** highest_zoneidx of a GFP_KERNEL allocation. */
  readonly kernelClassZone: number;
}

/**
 * x86-64 zone sets. 6.18 (CONFIG_ZONE_DMA, DMA32, MOVABLE, DEVICE): gfp_zone(GFP_HIGHUSER_MOVABLE)
 * is ZONE_MOVABLE, so user allocations check lowmem_reserve[ZONE_MOVABLE]. 2.6.18 has
 * DMA, DMA32, NORMAL, HIGHMEM (empty on 64-bit); its allocator uses the first zone of the
 * zonelist as classzone, which is NORMAL.
 */
export const ZONE_MODELS: Readonly<Record<KernelProfile, ZoneModel>> = {
  'linux-6.18': {
    names: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'],
    // mm/page_alloc.c sysctl_lowmem_reserve_ratio: DMA 256, DMA32 256, NORMAL 32, MOVABLE 0; DEVICE unset.
    lowmemReserveRatio: [256, 256, 32, 0, 0],
    cappedMin: [false, false, false, true, false],
    userClassZone: ZONE_3,
    kernelClassZone: ZONE_NORMAL,
  },
  'linux-2.6.18': {
    names: ['DMA', 'DMA32', 'Normal', 'HighMem'],
    // 2.6.18: sysctl_lowmem_reserve_ratio[MAX_NR_ZONES-1] = { 256, 256, 32 }.
    lowmemReserveRatio: [256, 256, 32, 0],
    cappedMin: [false, false, false, true],
    userClassZone: ZONE_NORMAL,
    kernelClassZone: ZONE_NORMAL,
  },
};

/** The LRU lists (enum lru_list), in for_each_evictable_lru order, then unevictable. */
export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;

/** Kinds of kernel pages frames keeps (meminfo lines they feed). */
export const KERNEL_PAGE_KINDS = ['pagetable', 'slab_reclaimable', 'slab_unreclaimable', 'kernel_stack', 'other'] as const;
export type KernelPageKind = (typeof KERNEL_PAGE_KINDS)[number];
export const NR_KERNEL_KINDS = KERNEL_PAGE_KINDS.length;
