// The inputs of the machine-wide /proc files, built from frames' state and the figures vm
// keeps (Committed_AS, mapped file pages, fault counters). The renderers never see frames'
// internals; these helpers are the one place that reads them.
import { framesFigures, zoneCensus, type FramesFigures, type FramesState } from '../frames/index.js';
import { K_FAILURES } from '../frames/counters.js';
import { LOW_RAM_END_PFN } from '../frames/layout.js';
import type { BuddyinfoZone } from './buddyinfo.js';
import type { MeminfoInput } from './meminfo.js';
import type { ZoneinfoInput, ZoneinfoZone } from './zoneinfo.js';

/** What vm knows and frames does not. Pages unless the name says otherwise. */
export interface VmFigures {
  /** vm_committed_as. */
  readonly committedAsPages: number;
  /** vm_commit_limit(); computed from frames' totals and the overcommit sysctls when absent. */
  readonly commitLimitPages?: number;
  /** NR_FILE_MAPPED: page-cache pages mapped by some PTE. */
  readonly mappedPages?: number;
  /** Kernel stacks, if vm keeps them itself rather than as frames kernel pages. */
  readonly kernelStackKiB?: number;
  /** Page tables, if vm keeps them itself rather than as frames kernel pages. */
  readonly pageTablesPages?: number;
  readonly pgfault?: number;
  readonly pgmajfault?: number;
  readonly pglazyfree?: number;
  readonly pgreuse?: number;
}

/** x86-64 4-level paging: VMALLOC_TOTAL >> 10 (32 TiB - 1 KiB). */
export const VMALLOC_TOTAL_KIB = 34359738367;

/**
 * The direct map (arch_report_meminfo) covers all RAM: 30 MiB in 4 KiB pages (the first 2 MiB
 * and the kernel text split), RAM above 4 GiB in 1 GiB pages (gbpages), the rest in 2 MiB
 * pages. A rule of thumb calibrated on a 24 GiB guest (30720 kB of 4k), not a port.
 */
export function directMap(ramBytes: number): { k4: number; m2: number; g1: number } {
  const total = ramBytes / 1024;
  const highBytes = Math.max(0, ramBytes - LOW_RAM_END_PFN * 4096);
  const g1 = Math.floor(highBytes / 2 ** 30) * 2 ** 20;
  const k4 = Math.min(30720, total - g1);
  return { k4, m2: total - g1 - k4, g1 };
}

/** vm_commit_limit(): overcommit_kbytes, or (RAM - hugetlb) * overcommit_ratio / 100; plus swap. */
export function commitLimitPages(f: FramesFigures, overcommitRatio: number, overcommitKbytes: number): number {
  const allowed = overcommitKbytes > 0 ? Math.floor(overcommitKbytes / 4) : Math.floor((f.totalRam * overcommitRatio) / 100);
  return allowed + f.swapTotal;
}

export function meminfoInput(s: FramesState, vm: VmFigures): MeminfoInput {
  const f = framesFigures(s);
  const sysctl = s.config?.sysctl;
  const ram = s.config?.ramBytes ?? 0;
  const cpus = s.config?.cpus ?? 1;
  const kstackKiB = vm.kernelStackKiB ?? f.kernel.kernel_stack * 4;
  const dm = directMap(ram);
  return {
    memTotal: f.totalRam,
    memFree: f.free,
    totalReserve: f.totalReserve,
    lowWatermarks: f.zones.reduce((t, z) => t + z.low, 0),
    buffers: f.buffers,
    filePages: f.filePages,
    swapCached: f.swapCache,
    activeAnon: f.activeAnon,
    inactiveAnon: f.inactiveAnon,
    activeFile: f.activeFile,
    inactiveFile: f.inactiveFile,
    unevictable: f.unevictable,
    mlocked: f.mlock,
    highTotal: 0,
    highFree: 0,
    swapTotal: f.swapTotal,
    swapFree: f.swapFree,
    zswap: 0,
    zswapped: 0,
    dirty: 0,
    writeback: 0,
    anonPages: f.anonPages,
    mapped: vm.mappedPages ?? 0,
    shmem: f.shmem,
    kernelMiscReclaimable: 0,
    slabReclaimable: f.kernel.slab_reclaimable,
    slabUnreclaimable: f.kernel.slab_unreclaimable,
    kernelStackKiB: kstackKiB,
    pageTables: vm.pageTablesPages ?? f.kernel.pagetable,
    secPageTables: 0,
    nfsUnstable: 0,
    bounce: 0,
    writebackTmp: 0,
    commitLimit: vm.commitLimitPages ?? commitLimitPages(f, sysctl?.overcommit_ratio ?? 50, sysctl?.overcommit_kbytes ?? 0),
    committedAs: vm.committedAsPages,
    vmallocTotalKiB: VMALLOC_TOTAL_KIB,
    // Kernel stacks are vmalloc'ed (CONFIG_VMAP_STACK); 12 MiB of other vmalloc use.
    vmallocUsedKiB: 12288 + kstackKiB,
    vmallocChunkKiB: 0,
    percpuKiB: 344 * cpus,
    anonHugePages: 0,
    shmemHugePages: 0,
    shmemPmdMapped: 0,
    fileHugePages: 0,
    filePmdMapped: 0,
    balloon: 0,
    hugePagesTotal: 0,
    hugePagesFree: 0,
    hugePagesRsvd: 0,
    hugePagesSurp: 0,
    hugepageSizeKiB: 2048,
    hugetlbKiB: 0,
    directMap4kKiB: dm.k4,
    directMap2MKiB: dm.m2,
    directMap1GKiB: dm.g1,
  };
}


/** domain_dirty_limits(): dirtyable memory x (free - totalreserve + file LRU + 1) times 819/4096 (20%) and 409/4096 (10%). */
function dirtyLimits(f: FramesFigures): { thresh: number; bg: number } {
  const free = f.free;
  const x = free - Math.min(free, f.totalReserve) + f.inactiveFile + f.activeFile + 1;
  const thresh = Math.floor((Math.floor((20 * 4096) / 100) * x) / 4096);
  let bg = Math.floor((Math.floor((10 * 4096) / 100) * x) / 4096);
  if (bg >= thresh) bg = Math.floor(thresh / 2);
  return { thresh, bg };
}

/** /proc/vmstat values by name for the machine's profile (vmstat.ts prints them in order). */
export function vmstatValues(s: FramesState, vm: Partial<VmFigures> = {}): Record<string, number> {
  const f = framesFigures(s);
  const ev = f.events;
  const pgalloc = f.zones.reduce((t, z) => t + z.pgalloc, 0);
  const kstackKiB = vm.kernelStackKiB ?? f.kernel.kernel_stack * 4;
  const pagetables = vm.pageTablesPages ?? f.kernel.pagetable;
  const v: Record<string, number> = { ...ev };
  v.pgfault = vm.pgfault ?? 0;
  v.pgmajfault = vm.pgmajfault ?? 0;
  v.pglazyfree = vm.pglazyfree ?? 0;
  v.pgreuse = vm.pgreuse ?? 0;
  v.nr_mapped = vm.mappedPages ?? 0;
  v.nr_anon_pages = f.anonPages;
  v.nr_file_pages = f.filePages;
  v.numa_hit = pgalloc;
  v.numa_local = pgalloc;
  v.nr_dirty = 0;
  v.nr_writeback = 0;
  if (f.profile === 'linux-2.6.18') {
    v.nr_slab = f.kernel.slab_reclaimable + f.kernel.slab_unreclaimable;
    v.nr_page_table_pages = pagetables;
    v.allocstall = ev.allocstall_dma;
    v.kswapd_steal = ev.pgsteal_kswapd;
    // 2.6.18 counted reclaim per zone; frames counts per node, shown under the highest populated zone.
    const top = ['dma', 'dma32', 'normal'][f.zones.filter((z) => z.present > 0 && z.index <= 2).length - 1] ?? 'normal';
    v[`pgrefill_${top}`] = ev.pgrefill;
    v[`pgsteal_${top}`] = ev.pgsteal_kswapd + ev.pgsteal_direct;
    v[`pgscan_kswapd_${top}`] = ev.pgscan_kswapd;
    v[`pgscan_direct_${top}`] = ev.pgscan_direct;
    return v;
  }
  const lru = [f.inactiveAnon, f.activeAnon, f.inactiveFile, f.activeFile, f.unevictable];
  ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'].forEach((n, k) => {
    v[`nr_${n}`] = lru[k];
    v[`nr_zone_${n}`] = lru[k];
  });
  v.nr_free_pages = f.free;
  v.nr_free_pages_blocks = f.zones.reduce((t, z) => t + freeInBlocks(z.nrFree), 0);
  v.nr_mlock = f.mlock;
  v.nr_slab_reclaimable = f.kernel.slab_reclaimable;
  v.nr_slab_unreclaimable = f.kernel.slab_unreclaimable;
  v.nr_shmem = f.shmem;
  v.nr_swapcached = f.swapCache;
  v.nr_written = ev.pswpout;
  v.nr_kernel_stack = kstackKiB;
  v.nr_page_table_pages = pagetables;
  const dl = dirtyLimits(f);
  v.nr_dirty_threshold = dl.thresh;
  v.nr_dirty_background_threshold = dl.bg;
  v.nr_memmap_boot_pages = s.layout?.memmapPages ?? 0;
  return v;
}

/** NR_FREE_PAGES_BLOCKS: free pages in whole free pageblocks (order >= pageblock_order 9). */
export const freeInBlocks = (nrFree: readonly number[]): number => nrFree.reduce((t, n, o) => (o >= 9 ? t + n * 2 ** o : t), 0);

export function buddyinfoZones(s: FramesState): BuddyinfoZone[] {
  return framesFigures(s).zones.map((z) => ({ name: z.name, present: z.present, nrFree: z.nrFree }));
}

export function zoneinfoInput(s: FramesState, vm: Partial<VmFigures> = {}): ZoneinfoInput {
  const f = framesFigures(s);
  const census = f.profile === 'linux-2.6.18' ? zoneCensus(s) : [];
  const nodeStats = vmstatValues(s, vm);
  const zones: ZoneinfoZone[] = f.zones.map((z) => {
    const stats: Record<string, number> = {};
    if (f.profile === 'linux-2.6.18') {
      const c = census[z.index] ?? { anon: 0, file: 0, shmem: 0, slab: 0, pagetable: 0 };
      stats.nr_anon_pages = c.anon;
      stats.nr_file_pages = c.file;
      stats.nr_slab = c.slab;
      stats.nr_page_table_pages = c.pagetable;
    } else {
      stats.nr_free_pages = z.free;
      stats.nr_free_pages_blocks = freeInBlocks(z.nrFree);
      ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'].forEach((n, k) => {
        stats[`nr_zone_${n}`] = z.lru[k];
      });
      stats.nr_mlock = z.mlock;
    }
    stats.numa_hit = z.pgalloc;
    stats.numa_local = z.pgalloc;
    return {
      name: z.name, startPfn: z.startPfn, spanned: z.spanned, present: z.present, managed: z.managed, free: z.free,
      boost: 0, min: z.min, low: z.low, high: z.high, promo: z.promo, cma: 0, protection: z.protection, stats,
      active: z.lru[1] + z.lru[3] + z.lru[4], inactive: z.lru[0] + z.lru[2],
    };
  });
  return { node: 0, zones, nodeStats, nodeUnreclaimable: s.ctr[K_FAILURES] >= 16 };
}
