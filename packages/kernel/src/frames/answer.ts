// Answers and reads: the contract's AllocReply from a decision's events, FramesTotals for vm and
// oom, and the figures /proc renders.
import type { AllocConstraint, AllocReply, EvictedPage, FramesTotals } from '../contracts/frames.js';
import { KERNEL_PAGE_KINDS, NR_KERNEL_KINDS, NR_PAGE_ORDERS } from './constants.js';
import * as C from './counters.js';
import { expandPfnRuns, type EvictedRun } from './runs.js';
import type { FramesState } from './state.js';
import type { FramesCommand, FramesEvent } from './types.js';

export function expandEvicted(runs: readonly EvictedRun[]): EvictedPage[] {
  const out: EvictedPage[] = [];
  for (const r of runs) {
    for (let k = 0; k < r.count; k++) {
      out.push({ pfn: r.pfn + k, page: { kind: r.kind, owner: r.owner, index: r.index + k }, swapSlot: r.slot < 0 ? -1 : r.slot + k });
    }
  }
  return out;
}

/**
 * The contract's answer to a command, from the events decide() returned for it: the pages
 * granted (AllocUserPages, SwapIn, GetFilePage, AddKernelPages), the pages reclaim took
 * meanwhile (vm must unmap them: anon PTEs become swap entries), and whether it failed.
 * Commands that can only evict (Tick, DropCaches, SetMemcgLimit, TruncateFile) answer with
 * their evictions and no pages; the rest answer an empty reply.
 */
export function answerOf(command: FramesCommand, events: readonly FramesEvent[]): AllocReply {
  void command;
  let pfns: number[] = [];
  const evicted: EvictedPage[] = [];
  let failed: AllocConstraint | null = null;
  let majorFaults = 0;
  for (const e of events) {
    switch (e.type) {
      case 'UserPagesAllocated':
      case 'SwappedIn':
      case 'FilePageFaulted':
      case 'FilePagesFaulted':
      case 'PagesSwappedIn':
      case 'KernelPagesAllocated':
        pfns = pfns.concat(expandPfnRuns(e.outcome.pfns));
        evicted.push(...expandEvicted(e.outcome.evicted));
        failed = e.outcome.failed;
        majorFaults += e.outcome.majorFaults;
        break;
      case 'KswapdRan':
      case 'CachesDropped':
      case 'FileTruncated':
      case 'MemcgHighSet':
        evicted.push(...expandEvicted(e.outcome.evicted));
        break;
      case 'MemcgLimitSet':
        evicted.push(...expandEvicted(e.outcome.evicted));
        failed = e.outcome.failed;
        break;
      default:
        break;
    }
  }
  return { pfns, evicted, failed, majorFaults };
}

const zoneFree = (s: FramesState): number => {
  let t = 0;
  for (let z = 0; z < s.nZones; z++) t += s.ctr[C.Z0 + z * C.ZS + C.ZF_FREE];
  return t;
};

/** MemTotal in pages: the pages the buddy allocator manages. */
export const totalRamPages = (s: FramesState): number => (s.settle().layout?.zones ?? []).reduce((t, z) => t + z.managed, 0);

export function totals(s: FramesState): FramesTotals {
  s.settle();
  return {
    totalRamPages: totalRamPages(s),
    totalSwapPages: s.ctr[C.SW_TOTAL],
    freePages: zoneFree(s),
    freeSwapPages: s.ctr[C.SW_FREE],
    filePages: s.ctr[C.N_FILE_PAGES],
    shmemPages: s.ctr[C.N_SHMEM],
    sReclaimablePages: s.ctr[C.N_KERNEL + KERNEL_PAGE_KINDS.indexOf('slab_reclaimable')],
    totalReservePages: s.ctr[C.TOTALRESERVE],
    hugetlbPages: 0,
  };
}

export interface ZoneFigures {
  readonly index: number;
  readonly name: string;
  readonly startPfn: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
  readonly free: number;
  readonly min: number;
  readonly low: number;
  readonly high: number;
  readonly promo: number;
  /** lowmem_reserve[] ("protection"). */
  readonly protection: readonly number[];
  /** free_area[order].nr_free. */
  readonly nrFree: readonly number[];
  /** nr_zone_inactive_anon, active_anon, inactive_file, active_file, unevictable. */
  readonly lru: readonly number[];
  readonly mlock: number;
  readonly pgalloc: number;
}

/** Everything frames counts, by name: node page counts, vm events, per-zone figures. */
export interface FramesFigures {
  readonly profile: FramesState['profile'];
  readonly totalRam: number;
  readonly free: number;
  readonly totalReserve: number;
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;
  readonly swappiness: number;
  readonly inactiveAnon: number;
  readonly activeAnon: number;
  readonly inactiveFile: number;
  readonly activeFile: number;
  readonly unevictable: number;
  readonly mlock: number;
  readonly anonPages: number;
  readonly filePages: number;
  readonly shmem: number;
  readonly swapCache: number;
  readonly buffers: number;
  readonly kernel: Readonly<Record<(typeof KERNEL_PAGE_KINDS)[number], number>>;
  readonly swapTotal: number;
  readonly swapFree: number;
  readonly zones: readonly ZoneFigures[];
  /** vm_event counters frames keeps, by their /proc/vmstat name. */
  readonly events: Readonly<Record<string, number>>;
}

export function framesFigures(s: FramesState): FramesFigures {
  s.settle();
  const c = s.ctr;
  const zones: ZoneFigures[] = (s.layout?.zones ?? []).map((z) => {
    const b = C.Z0 + z.index * C.ZS;
    const nrFree: number[] = [];
    for (let o = 0; o < NR_PAGE_ORDERS; o++) nrFree.push(c[b + C.ZF_NRFREE + o]);
    const lru: number[] = [];
    for (let l = 0; l < 5; l++) lru.push(c[b + C.ZF_LRU + l]);
    const protection: number[] = [];
    for (let j = 0; j < s.nZones; j++) protection.push(c[b + C.ZF_RESERVE + j]);
    return {
      index: z.index, name: z.name, startPfn: z.startPfn, spanned: z.spanned, present: z.present, managed: z.managed,
      free: c[b + C.ZF_FREE], min: c[b + C.ZF_WMIN], low: c[b + C.ZF_WLOW], high: c[b + C.ZF_WHIGH], promo: c[b + C.ZF_WPROMO],
      protection, nrFree, lru, mlock: c[b + C.ZF_MLOCK], pgalloc: c[C.E_PGALLOC + z.index],
    };
  });
  const kernel = {} as Record<(typeof KERNEL_PAGE_KINDS)[number], number>;
  for (let k = 0; k < NR_KERNEL_KINDS; k++) kernel[KERNEL_PAGE_KINDS[k]] = c[C.N_KERNEL + k];
  const zn = ['dma', 'dma32', 'normal', s.profile === 'linux-2.6.18' ? 'high' : 'movable', 'device'];
  const events: Record<string, number> = {
    pgpgin: c[C.E_PGPGIN], pgpgout: c[C.E_PGPGOUT], pswpin: c[C.E_PSWPIN], pswpout: c[C.E_PSWPOUT],
    pgfree: c[C.E_PGFREE], pgactivate: c[C.E_PGACTIVATE], pgdeactivate: c[C.E_PGDEACTIVATE], pgrefill: c[C.E_PGREFILL],
    pgsteal_kswapd: c[C.E_PGSTEAL_KSWAPD], pgsteal_direct: c[C.E_PGSTEAL_DIRECT],
    pgscan_kswapd: c[C.E_PGSCAN_KSWAPD], pgscan_direct: c[C.E_PGSCAN_DIRECT],
    pgscan_anon: c[C.E_PGSCAN_ANON], pgscan_file: c[C.E_PGSCAN_FILE], pgsteal_anon: c[C.E_PGSTEAL_ANON], pgsteal_file: c[C.E_PGSTEAL_FILE],
    slabs_scanned: c[C.E_SLABS_SCANNED], pageoutrun: c[C.E_PAGEOUTRUN], drop_pagecache: c[C.E_DROP_PAGECACHE], drop_slab: c[C.E_DROP_SLAB],
    oom_kill: c[C.E_OOM_KILL], unevictable_pgs_mlocked: c[C.E_MLOCKED], unevictable_pgs_munlocked: c[C.E_MUNLOCKED],
    nr_vmscan_write: c[C.E_VMSCAN_WRITE], pgmajfault_frames: c[C.E_MAJFAULT], pglazyfreed: c[C.E_PGLAZYFREED],
    kswapd_low_wmark_hit_quickly: c[C.E_KSWAPD_LOW_WMARK_HIT_QUICKLY], kswapd_high_wmark_hit_quickly: c[C.E_KSWAPD_HIGH_WMARK_HIT_QUICKLY],
  };
  for (let z = 0; z < 5; z++) {
    events[`pgalloc_${zn[z]}`] = c[C.E_PGALLOC + z];
    events[`allocstall_${zn[z]}`] = c[C.E_ALLOCSTALL + z];
  }
  return {
    profile: s.profile, totalRam: totalRamPages(s), free: zoneFree(s), totalReserve: c[C.TOTALRESERVE],
    minFreeKbytes: c[C.S_MIN_FREE_KBYTES], watermarkScaleFactor: c[C.S_WSF], swappiness: c[C.S_SWAPPINESS],
    inactiveAnon: c[C.N_LRU], activeAnon: c[C.N_LRU + 1], inactiveFile: c[C.N_LRU + 2], activeFile: c[C.N_LRU + 3],
    unevictable: c[C.N_LRU + 4], mlock: c[C.N_MLOCK], anonPages: c[C.N_ANON], filePages: c[C.N_FILE_PAGES],
    shmem: c[C.N_SHMEM], swapCache: c[C.N_SWAPCACHE], buffers: c[C.N_BDEV], kernel,
    swapTotal: c[C.SW_TOTAL], swapFree: c[C.SW_FREE], zones, events,
  };
}

export interface MemcgFigures {
  readonly id: number;
  readonly parent: number;
  /** memory.max in pages; -1: "max". */
  readonly max: number;
  /** memory.high in pages; -1: "max". */
  readonly high: number;
  /** memory.current in pages. */
  readonly current: number;
  readonly events: Readonly<Record<C.MemcgEventKind, number>>;
  readonly eventsLocal: Readonly<Record<C.MemcgEventKind, number>>;
  /** Pages on each of the memcg's own LRU lists. */
  readonly lru: readonly number[];
  /** memory.swap.max in pages; -1: "max". */
  readonly swapMax: number;
  /** memory.swap.current in pages: swap slots charged to the memcg and its descendants. */
  readonly swapCurrent: number;
  /** memory.swap.events (hierarchical): swap-outs refused by a swap.max (max), and every failed one (fail). */
  readonly swapEvents: Readonly<Record<C.MemcgSwapEventKind, number>>;
}

/** memory.current / memory.max / memory.events / memory.swap.* of a memcg, or null if it does not exist. */
export function memcgFigures(s: FramesState, id: number): MemcgFigures | null {
  s.settle();
  const m = s.memcgIdx.get(id);
  if (m === undefined) return null;
  const b = m * C.MS;
  const ev = {} as Record<C.MemcgEventKind, number>;
  const evl = {} as Record<C.MemcgEventKind, number>;
  C.MEMCG_EVENTS.forEach((k, j) => {
    ev[k] = s.mcg[b + C.M_EV + j];
    evl[k] = s.mcg[b + C.M_EVL + j];
  });
  const parent = s.mcg[b + C.M_PARENT];
  const lru: number[] = [];
  for (let l = 0; l < 5; l++) lru.push(s.mcg[b + C.M_LRU_SIZE + l]);
  return {
    id, parent: parent < 0 ? -1 : s.mcg[parent * C.MS + C.M_ID], max: s.mcg[b + C.M_MAX], high: s.mcg[b + C.M_HIGH], current: s.mcg[b + C.M_CURRENT],
    events: ev, eventsLocal: evl, lru,
    swapMax: s.mcg[b + C.M_SWAP_MAX], swapCurrent: s.mcg[b + C.M_SWAP_CURRENT],
    swapEvents: { max: s.mcg[b + C.M_SWAP_EV], fail: s.mcg[b + C.M_SWAP_EV + 1] },
  };
}

/** Bytes of host memory the per-frame arrays take (the 16 B/frame budget). */
export function frameTableBytes(s: FramesState): number {
  s.settle();
  return s.word.byteLength + s.index.byteLength + s.next.byteLength + s.prev.byteLength;
}

/** Reads (they change nothing and make no event): what a host answers without decide(). */
export type FramesQuery =
  | { readonly type: 'GetTotals' }
  | { readonly type: 'GetFigures' }
  | { readonly type: 'GetMemcg'; readonly memcg: number };

export function queryFrames(s: FramesState, q: FramesQuery): FramesTotals | FramesFigures | MemcgFigures | null {
  switch (q.type) {
    case 'GetTotals':
      return totals(s);
    case 'GetFigures':
      return framesFigures(s);
    case 'GetMemcg':
      return memcgFigures(s, q.memcg);
    default:
      return null;
  }
}

export const isFramesQuery = (x: unknown): x is FramesQuery => {
  const t = typeof x === 'object' && x !== null ? (x as { type?: unknown }).type : undefined;
  return t === 'GetTotals' || t === 'GetFigures' || t === 'GetMemcg';
};

export interface ZoneCensus {
  readonly anon: number;
  readonly file: number;
  readonly shmem: number;
  readonly slab: number;
  readonly pagetable: number;
}

/** Per-zone page counts that frames keeps only node-wide, by a scan of the frame table (for 2.6.18's zoneinfo). */
export function zoneCensus(s: FramesState): ZoneCensus[] {
  s.settle();
  const out = Array.from({ length: s.nZones }, () => ({ anon: 0, file: 0, shmem: 0, slab: 0, pagetable: 0 }));
  const slabR = KERNEL_PAGE_KINDS.indexOf('slab_reclaimable');
  const slabU = KERNEL_PAGE_KINDS.indexOf('slab_unreclaimable');
  const pt = KERNEL_PAGE_KINDS.indexOf('pagetable');
  for (let i = 0; i < s.nFrames; i++) {
    const w = s.word[i];
    const st = w & 3;
    if (st !== 1 && st !== 2) continue;
    const z = out[i < s.z1 ? 0 : i < s.z2 ? 1 : 2];
    if (st === 2) {
      const kind = (w >>> 2) & 7;
      if (kind === slabR || kind === slabU) z.slab++;
      else if (kind === pt) z.pagetable++;
      continue;
    }
    const k = s.handleKind[w >>> 11];
    if (k === 0) z.anon++;
    else z.file++;
    if (k === 2) z.shmem++;
  }
  return out;
}
