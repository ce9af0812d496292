// Page reclaim (mm/vmscan.c), simplified but in the kernel's shape:
//  - shrink_node walks the memcgs of the target (all for global reclaim, a subtree for memcg
//    reclaim) and shrinks each one's lruvec and reclaimable slab;
//  - get_scan_count decides how much of each list to scan at this priority (list size >>
//    priority), and how to balance anon against file. The kernel weighs the two by swappiness
//    and by the recent cost of reclaiming each (refaults, rotations); we have no refault
//    history, so costs are equal: anon : file = swappiness : (200 - swappiness). As in the
//    kernel: no free swap, or none left under memory.swap.max of the lruvec's memcg -> file only; plenty of inactive file that is not "low" (cache trim
//    mode) -> file only; file nearly gone in global reclaim (file_is_tiny) -> anon only;
//    priority 0 -> both by size.
//  - shrink_inactive_list isolates pages from the tail of an inactive list and reclaims each:
//    a file page is dropped (pages are clean: no dirty/writeback model); an anon or shmem page
//    gets a swap slot charged to its memcg and is written (pswpout; the write completes at
//    once), or is moved to the active list when swap is full or the charge would go over
//    memory.swap.max; an anon page in the swap cache is dropped without a
//    write. We have no PTE accessed bits, so referenced pages are not given a second chance on
//    the inactive list; page-cache hits do activate pages (mark_page_accessed).
//  - shrink_active_list moves pages from the tail of an active list to the inactive list when
//    the inactive list is low (inactive_is_low).
//  - kswapd (balance_pgdat) reclaims from priority 12 down until a zone is above its high
//    watermark for the woken classzone; direct reclaim (do_try_to_free_pages) wants 32 pages;
//    memcg reclaim (try_to_free_mem_cgroup_pages) the same within a subtree.
// Not modelled: dirty pages and writeback throttling, proportional scan adjustment after the
// target is met (we stop), memory.low/min protection, MGLRU, THP splitting, zone_reclaim.
import { shr } from '../common/index.js';
import {
  DEF_PRIORITY, LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, MAX_RECLAIM_RETRIES,
  MAX_SWAPPINESS, SWAP_CLUSTER_MAX, ZONE_MODELS,
} from './constants.js';
import {
  E_PGACTIVATE, E_PGDEACTIVATE, E_PGPGOUT, E_PGREFILL, E_PGSCAN_ANON, E_PGSCAN_DIRECT, E_PGSCAN_FILE, E_PGSCAN_KSWAPD,
  E_PGSTEAL_ANON, E_PGSTEAL_DIRECT, E_PGSTEAL_FILE, E_PGSTEAL_KSWAPD, E_PSWPOUT, E_SLABS_SCANNED, E_VMSCAN_WRITE,
  E_PAGEOUTRUN, E_PGLAZYFREED, K_CLASSZONE, K_FAILURES, K_PENDING, MS, M_LRU_HEAD, M_LRU_SIZE, S_SWAPPINESS, SW_TOTAL,
  ZF_FREE, ZF_RESERVE, ZF_WHIGH, ZS, Z0,
} from './counters.js';
import { inactiveIsLow } from './watermarks.js';
import { F_REFERENCED, F_SWAPCACHE, handleOf, isLazyFree, lruOf, withLru } from './frame-word.js';
import { lruAdd, lruDel, lruTail } from './lru.js';
import { memcgNrSwapPages, subtree } from './memcg.js';
import { K_ANON, K_SHMEM, isFileLru, pageKindOf } from './owners.js';
import { freeKernelPage, kernelPages, removeUserPage } from './pages.js';
import { folioAllocSwap, setSwapCount, swapCount } from './swap.js';
import { pfnOfIdx } from './layout.js';
import type { EvictionLog } from './runs.js';
import type { FramesState } from './state.js';
import { KERNEL_PAGE_KINDS } from './constants.js';

const SLAB_RECLAIMABLE = KERNEL_PAGE_KINDS.indexOf('slab_reclaimable');

export const KSWAPD = 0;
export const DIRECT = 1;

export interface ScanControl {
  readonly reclaimer: typeof KSWAPD | typeof DIRECT;
  /** Memcg index whose subtree is reclaimed (0: global). */
  readonly target: number;
  readonly cgroupReclaim: boolean;
  nrToReclaim: number;
  nrReclaimed: number;
  nrScanned: number;
  priority: number;
  mayDeactivateAnon: boolean;
  mayDeactivateFile: boolean;
  forceDeactivate: boolean;
  skippedDeactivate: boolean;
  cacheTrimMode: boolean;
  fileIsTiny: boolean;
}

function scanControl(reclaimer: ScanControl['reclaimer'], target: number, nrToReclaim: number): ScanControl {
  return {
    reclaimer, target, cgroupReclaim: target !== 0, nrToReclaim, nrReclaimed: 0, nrScanned: 0, priority: DEF_PRIORITY,
    mayDeactivateAnon: false, mayDeactivateFile: false, forceDeactivate: false, skippedDeactivate: false,
    cacheTrimMode: false, fileIsTiny: false,
  };
}

const totalSwap = (s: FramesState): number => s.ctr[SW_TOTAL];

// ---- evicting one page ------------------------------------------------------------------

/**
 * Reclaims an isolated user page (off its LRU list): drops it (file, clean swap cache) or
 * writes it to a new swap slot (anon, shmem). Returns false if it must stay (swap full).
 */
function reclaimIsolated(s: FramesState, ev: EvictionLog, i: number): boolean {
  const w = s.word[i];
  const h = handleOf(w);
  const kind = s.handleKind[h];
  if (isFileLru(kind)) {
    const r = removeUserPage(s, i, false, 0);
    ev.push(pfnOfIdx(i), pageKindOf(kind), r.owner, r.index, -1);
    return true;
  }
  if (kind === K_ANON && isLazyFree(w)) {
    // A clean MADV_FREE page (on the file list, !PageSwapBacked): dropped, not written; its PTEs go.
    const r = removeUserPage(s, i, false, 0);
    ev.push(pfnOfIdx(i), 'anon', r.owner, r.index, -1);
    s.ctr[E_PGLAZYFREED]++;
    return true;
  }
  if ((w & F_SWAPCACHE) !== 0) {
    // Clean copy on swap: the PTE gets the swap entry back (swap_duplicate), the page goes.
    const slot = s.swapCacheByIdx.get(i) as number;
    setSwapCount(s, slot, swapCount(s, slot) + 1);
    const r = removeUserPage(s, i, false, 0);
    ev.push(pfnOfIdx(i), pageKindOf(kind), r.owner, r.index, slot);
    return true;
  }
  const slot = folioAllocSwap(s, s.handleMemcg[h]);
  if (slot < 0) return false;
  s.ctr[E_PSWPOUT]++;
  s.ctr[E_PGPGOUT] += 4;
  s.ctr[E_VMSCAN_WRITE]++;
  const r = removeUserPage(s, i, false, kind === K_SHMEM ? -(slot + 1) : 0);
  ev.push(pfnOfIdx(i), pageKindOf(kind), r.owner, r.index, slot);
  return true;
}

// ---- the lists --------------------------------------------------------------------------

/** shrink_inactive_list(): scan up to n pages from the tail; returns pages reclaimed. */
function shrinkInactiveList(s: FramesState, ev: EvictionLog, sc: ScanControl, m: number, lru: number, n: number): number {
  const isolated: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = lruTail(s, m, lru);
    if (i < 0) break;
    lruDel(s, m, lru, i);
    isolated.push(i);
  }
  const scanned = isolated.length;
  if (scanned === 0) return 0;
  sc.nrScanned += scanned;
  const file = lru === LRU_INACTIVE_FILE;
  s.ctr[sc.reclaimer === KSWAPD ? E_PGSCAN_KSWAPD : E_PGSCAN_DIRECT] += scanned;
  s.ctr[file ? E_PGSCAN_FILE : E_PGSCAN_ANON] += scanned;
  let reclaimed = 0;
  for (const i of isolated) {
    if (reclaimIsolated(s, ev, i)) {
      reclaimed++;
    } else {
      // add_to_swap() failed: activate_locked.
      s.setWord(i, withLru(s.word[i], LRU_ACTIVE_ANON));
      lruAdd(s, m, LRU_ACTIVE_ANON, i);
      s.ctr[E_PGACTIVATE]++;
    }
  }
  s.ctr[sc.reclaimer === KSWAPD ? E_PGSTEAL_KSWAPD : E_PGSTEAL_DIRECT] += reclaimed;
  s.ctr[file ? E_PGSTEAL_FILE : E_PGSTEAL_ANON] += reclaimed;
  return reclaimed;
}

/** shrink_active_list(): moves up to n pages from the tail of an active list to its inactive list. */
export function shrinkActiveList(s: FramesState, m: number, lru: number, n: number): void {
  const inactive = lru - 1;
  let moved = 0;
  for (let k = 0; k < n; k++) {
    const i = lruTail(s, m, lru);
    if (i < 0) break;
    lruDel(s, m, lru, i);
    s.setWord(i, (withLru(s.word[i], inactive) & ~F_REFERENCED) >>> 0);
    lruAdd(s, m, inactive, i);
    moved++;
  }
  s.ctr[E_PGREFILL] += moved;
  s.ctr[E_PGDEACTIVATE] += moved;
}

const size = (s: FramesState, m: number, lru: number): number => s.mcg[m * MS + M_LRU_SIZE + lru];

/** get_scan_count() with equal anon/file costs; returns pages to scan per list [ia, aa, if, af]. */
function getScanCount(s: FramesState, sc: ScanControl, m: number): number[] {
  const swappiness = s.ctr[S_SWAPPINESS];
  const FILE = 0, ANON = 1, EQUAL = 2, FRACT = 3;
  let balance: number;
  // can_reclaim_anon_pages(): no free slot this lruvec's memcg may take (mem_cgroup_get_nr_swap_pages).
  if (memcgNrSwapPages(s, m) <= 0) balance = FILE;
  else if (sc.cgroupReclaim && swappiness === 0) balance = FILE;
  else if (sc.priority === 0 && swappiness > 0) balance = EQUAL;
  else if (sc.fileIsTiny) balance = ANON;
  else if (sc.cacheTrimMode) balance = FILE;
  else balance = FRACT;
  const ap = swappiness;
  const fp = MAX_SWAPPINESS - swappiness;
  const nr = [0, 0, 0, 0];
  for (let lru = 0; lru < 4; lru++) {
    const isFile = lru >= LRU_INACTIVE_FILE;
    let scan = shr(size(s, m, lru), sc.priority);
    if (balance === FRACT) scan = Math.floor((scan * (isFile ? fp : ap)) / (ap + fp));
    else if (balance === FILE && !isFile) scan = 0;
    else if (balance === ANON && isFile) scan = 0;
    nr[lru] = scan;
  }
  return nr;
}

/** shrink_lruvec(). */
function shrinkLruvec(s: FramesState, ev: EvictionLog, sc: ScanControl, m: number): void {
  const nr = getScanCount(s, sc, m);
  const proportional = !sc.cgroupReclaim && sc.reclaimer !== KSWAPD && sc.priority === DEF_PRIORITY;
  let reclaimed = 0;
  while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
    for (let lru = 0; lru < 4; lru++) {
      if (!nr[lru]) continue;
      const n = Math.min(nr[lru], SWAP_CLUSTER_MAX);
      nr[lru] -= n;
      if (lru === LRU_ACTIVE_ANON || lru === LRU_ACTIVE_FILE) {
        if (lru === LRU_ACTIVE_FILE ? sc.mayDeactivateFile : sc.mayDeactivateAnon) shrinkActiveList(s, m, lru, n);
        else sc.skippedDeactivate = true;
      } else {
        reclaimed += shrinkInactiveList(s, ev, sc, m, lru, n);
      }
    }
    if (reclaimed < sc.nrToReclaim || proportional) continue;
    break;
  }
  sc.nrReclaimed += reclaimed;
  // Even if no anon page was scanned, rebalance the anon lists (can_age_anon_pages: swap exists).
  if (totalSwap(s) > 0 && inactiveIsLow(size(s, m, LRU_INACTIVE_ANON), size(s, m, LRU_ACTIVE_ANON))) {
    shrinkActiveList(s, m, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
  }
}

/** shrink_slab() for one memcg: (freeable >> priority) * 4 / DEFAULT_SEEKS pages of reclaimable slab. */
function shrinkSlab(s: FramesState, sc: ScanControl, m: number): void {
  const freeable = kernelPages(s, m, SLAB_RECLAIMABLE);
  if (freeable === 0) return;
  const delta = shr(freeable, sc.priority) * 2;
  const n = Math.min(delta, freeable);
  s.ctr[E_SLABS_SCANNED] += delta;
  for (let k = 0; k < n; k++) freeKernelPage(s, m, SLAB_RECLAIMABLE, true);
  // Slab pages freed count as reclaimed in global reclaim (flush_reclaim_state).
  if (!sc.cgroupReclaim) sc.nrReclaimed += n;
}

function freePages(s: FramesState): number {
  let t = 0;
  for (let z = 0; z < s.nZones; z++) t += s.ctr[Z0 + z * ZS + ZF_FREE];
  return t;
}

/** prepare_scan_control(): deactivation and cache-trim decisions on the target's (hierarchical) lists. */
function prepareScanControl(s: FramesState, sc: ScanControl, memcgs: readonly number[]): void {
  let ia = 0, aa = 0, inf = 0, af = 0;
  for (const m of memcgs) {
    ia += size(s, m, LRU_INACTIVE_ANON);
    aa += size(s, m, LRU_ACTIVE_ANON);
    inf += size(s, m, LRU_INACTIVE_FILE);
    af += size(s, m, LRU_ACTIVE_FILE);
  }
  sc.mayDeactivateAnon = sc.forceDeactivate || inactiveIsLow(ia, aa);
  sc.mayDeactivateFile = sc.forceDeactivate || inactiveIsLow(inf, af);
  sc.cacheTrimMode = shr(inf, sc.priority) > 0 && !sc.mayDeactivateFile;
  if (!sc.cgroupReclaim) {
    let totalHigh = 0;
    for (let z = 0; z < s.nZones; z++) totalHigh += s.ctr[Z0 + z * ZS + ZF_WHIGH];
    sc.fileIsTiny = inf + af + freePages(s) <= totalHigh && !sc.mayDeactivateAnon && shr(ia, sc.priority) > 0;
  }
}

/** shrink_node(): every memcg of the target subtree, parents first. */
function shrinkNode(s: FramesState, ev: EvictionLog, sc: ScanControl): void {
  const memcgs = subtree(s, sc.target);
  prepareScanControl(s, sc, memcgs);
  const before = sc.nrReclaimed;
  for (const m of memcgs) {
    shrinkLruvec(s, ev, sc, m);
    shrinkSlab(s, sc, m);
    if (sc.reclaimer !== KSWAPD && sc.nrReclaimed >= sc.nrToReclaim) break;
  }
  if (sc.nrReclaimed > before) s.ctr[K_FAILURES] = 0;
}

/** do_try_to_free_pages(): priority 12 down to 0 until nrToReclaim pages are reclaimed. */
function doTryToFreePages(s: FramesState, ev: EvictionLog, sc: ScanControl): number {
  for (;;) {
    do {
      sc.nrScanned = 0;
      shrinkNode(s, ev, sc);
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
    } while (--sc.priority >= 0);
    if (sc.nrReclaimed > 0) return sc.nrReclaimed;
    // Nothing reclaimed while active lists were left alone: deactivate them and go again.
    if (sc.skippedDeactivate && !sc.forceDeactivate) {
      sc.priority = DEF_PRIORITY;
      sc.forceDeactivate = true;
      sc.skippedDeactivate = false;
      continue;
    }
    return 0;
  }
}

/** try_to_free_pages(): direct reclaim from the page allocator's slow path. */
export function directReclaim(s: FramesState, ev: EvictionLog): number {
  return doTryToFreePages(s, ev, scanControl(DIRECT, 0, SWAP_CLUSTER_MAX));
}

/** try_to_free_mem_cgroup_pages(): reclaim within memcg m's subtree. */
export function memcgReclaim(s: FramesState, ev: EvictionLog, m: number, nrPages: number): number {
  return doTryToFreePages(s, ev, scanControl(DIRECT, m, Math.max(nrPages, SWAP_CLUSTER_MAX)));
}

// ---- kswapd -----------------------------------------------------------------------------

/**
 * pgdat_balanced(): 6.x: some zone up to the classzone is above its high watermark plus its
 * lowmem_reserve for that classzone. 2.6.18 balance_pgdat: every populated zone is above high.
 */
export function pgdatBalanced(s: FramesState, classzone: number): boolean {
  const zones = s.layout?.zones ?? [];
  if (s.profile === 'linux-2.6.18') {
    for (const z of zones) {
      if (z.present === 0) continue;
      const b = Z0 + z.index * ZS;
      if (!(s.ctr[b + ZF_FREE] > s.ctr[b + ZF_WHIGH])) return false;
    }
    return true;
  }
  let any = false;
  for (let z = 0; z <= classzone && z < zones.length; z++) {
    if (zones[z].managed === 0) continue;
    any = true;
    const b = Z0 + z * ZS;
    if (s.ctr[b + ZF_FREE] > s.ctr[b + ZF_WHIGH] + s.ctr[b + ZF_RESERVE + classzone]) return true;
  }
  return !any;
}

/** wakeup_kswapd(): unless the node is hopeless or already balanced. */
export function wakeKswapd(s: FramesState, classzone: number): void {
  if (s.ctr[K_FAILURES] >= MAX_RECLAIM_RETRIES) return;
  if (pgdatBalanced(s, classzone)) return;
  s.ctr[K_PENDING] = 1;
  s.ctr[K_CLASSZONE] = Math.max(s.ctr[K_CLASSZONE], classzone);
}

/** balance_pgdat(): kswapd's run after a wakeup. */
export function runKswapd(s: FramesState, ev: EvictionLog): number {
  if (s.ctr[K_PENDING] === 0) return 0;
  const classzone = s.ctr[K_CLASSZONE];
  s.ctr[K_PENDING] = 0;
  s.ctr[K_CLASSZONE] = 0;
  s.ctr[E_PAGEOUTRUN]++;
  const sc = scanControl(KSWAPD, 0, 0);
  const zones = s.layout?.zones ?? [];
  do {
    if (pgdatBalanced(s, classzone)) break;
    // kswapd_age_node(): keep the anon lists aged even when anon is not being reclaimed.
    if (totalSwap(s) > 0) {
      let ia = 0, aa = 0;
      const all = subtree(s, 0);
      for (const m of all) {
        ia += size(s, m, LRU_INACTIVE_ANON);
        aa += size(s, m, LRU_ACTIVE_ANON);
      }
      if (inactiveIsLow(ia, aa)) for (const m of all) shrinkActiveList(s, m, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
    }
    // kswapd_shrink_node(): aim for the high watermarks of the eligible zones.
    let target = 0;
    for (let z = 0; z <= classzone && z < zones.length; z++) {
      if (zones[z].managed > 0) target += Math.max(s.ctr[Z0 + z * ZS + ZF_WHIGH], SWAP_CLUSTER_MAX);
    }
    sc.nrToReclaim = target;
    sc.nrScanned = 0;
    const before = sc.nrReclaimed;
    shrinkNode(s, ev, sc);
    const raisePriority = sc.nrScanned < sc.nrToReclaim;
    if (raisePriority || sc.nrReclaimed === before) sc.priority--;
  } while (sc.priority >= 1);
  if (sc.nrReclaimed === 0) s.ctr[K_FAILURES]++;
  return sc.nrReclaimed;
}

// ---- drop_caches -----------------------------------------------------------------------

/**
 * drop_pagecache_sb(): drops every clean page-cache page on the file lists (not shmem, not
 * mlocked, not the lazily freeable anonymous pages MADV_FREE put there: they are not page cache).
 */
export function dropPageCache(s: FramesState, ev: EvictionLog): number {
  let n = 0;
  for (const m of subtree(s, 0)) {
    for (const lru of [LRU_INACTIVE_FILE, LRU_ACTIVE_FILE]) {
      const pages: number[] = [];
      const head = s.mcg[m * MS + M_LRU_HEAD + lru];
      if (head >= 0) for (let i = s.prev[head], k = 0; k < size(s, m, lru); i = s.prev[i], k++) pages.push(i);
      for (const i of pages) {
        if (s.handleKind[handleOf(s.word[i])] === K_ANON) continue;
        lruDel(s, m, lru, i);
        const r = removeUserPage(s, i, false, 0);
        ev.push(pfnOfIdx(i), pageKindOf(r.kind), r.owner, r.index, -1);
        n++;
      }
    }
  }
  return n;
}

/** drop_slab(): frees the reclaimable slab of every memcg. */
export function dropSlab(s: FramesState): number {
  let n = 0;
  for (const m of subtree(s, 0)) while (freeKernelPage(s, m, SLAB_RECLAIMABLE, true) >= 0) n++;
  return n;
}

export const userClassZone = (s: FramesState): number => ZONE_MODELS[s.profile].userClassZone;

