// What each event does to the state. decide() runs these with the journal on (and rolls back)
// to learn the outcome; evolve() runs them again on the real state and checks it gets the
// outcome the event recorded. Given the same state and inputs they are deterministic.
import { invalid, notFound, pages, pfn, precondition, unreachable } from '../common/index.js';
import type { AllocConstraint } from '../contracts/frames.js';
import { KERNEL_PAGE_KINDS, LRU_ACTIVE_ANON, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE, MAX_RECLAIM_RETRIES, ZONE_MODELS } from './constants.js';
import {
  E_DROP_PAGECACHE, E_DROP_SLAB, E_MAJFAULT, E_MLOCKED, E_MUNLOCKED, E_OOM_KILL, E_PGACTIVATE, E_PGLAZYFREE, E_PGPGIN, E_PSWPIN,
  MS, M_HIGH, M_MAX, M_PARENT, M_SWAP_MAX, N_MLOCK, S_SWAPPINESS, S_USER_MIN_FREE_KBYTES, S_WSF, ZF_MLOCK, ZS, Z0,
} from './counters.js';
import { bootMachine, setupZoneWatermarks } from './boot.js';
import { allocFrame, reclaimHigh, tryCharge, unallocFrame } from './alloc.js';
import { zoneOf } from './buddy.js';
import { F_REFERENCED, F_SWAPCACHE, handleOf, isLazyFree, lruOf, withLru } from './frame-word.js';
import { idxOfPfn, pfnOfIdx } from './layout.js';
import { lruAdd, lruDel } from './lru.js';
import { createMemcg, inSubtree, memcgCurrent, memcgEvent, memcgId, memcgIndex, memcgSwapFull, UNLIMITED } from './memcg.js';
import { K_ANON, K_SHMEM, fileNo, findFileNo, getHandle, isFileLru, kindCode, pageKindOf, refHandle } from './owners.js';
import { pcEntries, pcGet, pcSet } from './page-cache.js';
import { freeKernelPage, freeUserRange, installKernelPage, installUserPage, isUserFrame, removeUserPage } from './pages.js';
import { dropPageCache, dropSlab, memcgReclaim, runKswapd } from './reclaim.js';
import { EvictionLog, PfnRuns, type PfnRun } from './runs.js';
import { bulkAllocUser } from './bulk.js';
import { setSwapCount, slotInUse, swapCacheAdd, swapCacheDel, swapCount } from './swap.js';
import type { FramesState } from './state.js';
import type { AllocOutcome, EvictOutcome, FileKind, FramesEvent } from './types.js';

export type Outcome = AllocOutcome | EvictOutcome | (EvictOutcome & { slabPages: number }) | (EvictOutcome & { failed: AllocConstraint | null }) | { pfns: PfnRun[] } | null;

const GLOBAL: AllocConstraint = { kind: 'global' };
const oneRun = (i: number): PfnRun => ({ pfn: pfn(pfnOfIdx(i)), count: pages(1) });

/** Applies an event's inputs to the state; returns the outcome (null for events without one). */
export function execute(s: FramesState, e: FramesEvent): Outcome {
  s.overHighPages = 0;
  switch (e.type) {
    case 'MachineBooted':
      bootMachine(s, e.config);
      return null;
    case 'UserPagesAllocated':
      return allocUserPages(s, e);
    case 'UserPagesFreed':
      for (const r of e.pfns) {
        const start = idxOfPfn(r.pfn, s.nFrames);
        if (start < 0 || idxOfPfn(r.pfn + r.count - 1, s.nFrames) !== start + r.count - 1) {
          throw notFound('frames.NO_SUCH_PFN', `pfns ${r.pfn}..${r.pfn + r.count - 1} are not RAM of this machine`);
        }
        for (let i = start; i < start + r.count; i++) userFrame(s, i);
        freeUserRange(s, start, r.count);
      }
      return null;
    case 'SwappedIn':
      return swapIn(s, e);
    case 'SwapSlotsFreed':
      for (const r of e.slots) for (let k = 0; k < r.count; k++) freeSwapRef(s, r.slot + k);
      return null;
    case 'SwapSlotsDuplicated':
      for (const r of e.slots) {
        for (let k = 0; k < r.count; k++) {
          const slot = r.slot + k;
          if (!slotInUse(s, slot)) throw notFound('frames.NO_SUCH_SWAP_SLOT', `swap slot ${slot} is not in use`);
          if (swapCount(s, slot) >= 0x7fff) throw invalid('frames.SWAP_COUNT_OVERFLOW', `swap slot ${slot} has too many references`);
          setSwapCount(s, slot, swapCount(s, slot) + 1);
        }
      }
      return null;
    case 'FilePageFaulted':
      return filePage(s, e);
    case 'FileTruncated':
      return truncate(s, e.file, e.kind);
    case 'KernelPagesAllocated':
      return allocKernelPages(s, e);
    case 'KernelPagesFreed': {
      const m = existingMemcg(s, e.memcg);
      const kind = KERNEL_PAGE_KINDS.indexOf(e.kind);
      const out = new PfnRuns();
      for (let k = 0; k < e.pages; k++) {
        const i = freeKernelPage(s, m, kind, false);
        if (i < 0) throw precondition('frames.NOT_ENOUGH_KERNEL_PAGES', `memcg ${e.memcg} has fewer than ${e.pages} ${e.kind} pages`);
        out.push(pfnOfIdx(i));
      }
      return { pfns: out.done() };
    }
    case 'PagesAccessed':
      forEachPfn(e.pfns, (i) => markAccessed(s, userFrame(s, i)), s);
      return null;
    case 'PagesMlocked':
      forEachPfn(e.pfns, (i) => mlock(s, userFrame(s, i), e.lock), s);
      return null;
    case 'KswapdRan': {
      const ev = new EvictionLog();
      runKswapd(s, ev);
      return { evicted: ev.done() };
    }
    case 'CachesDropped': {
      const ev = new EvictionLog();
      let slabPages = 0;
      if (e.mode & 1) {
        dropPageCache(s, ev);
        s.ctr[E_DROP_PAGECACHE]++;
      }
      if (e.mode & 2) {
        slabPages = dropSlab(s);
        s.ctr[E_DROP_SLAB]++;
      }
      return { evicted: ev.done(), slabPages };
    }
    case 'SysctlSet':
      if (e.name === 'swappiness') {
        s.ctr[S_SWAPPINESS] = e.value;
      } else {
        if (e.name === 'min_free_kbytes') s.ctr[S_USER_MIN_FREE_KBYTES] = e.value;
        else s.ctr[S_WSF] = e.value;
        setupZoneWatermarks(s);
      }
      return null;
    case 'MemcgLimitSet':
      return setMemcgLimit(s, e.memcg, e.maxPages, e.parent);
    case 'FilePagesFaulted':
      return filePages(s, e);
    case 'PagesSwappedIn':
      return swapInPages(s, e);
    case 'MemcgHighSet':
      return setMemcgHigh(s, e.memcg, e.highPages);
    case 'MemcgSwapMaxSet':
      // swap_max_write(): only the limit; slots already charged above it stay until freed.
      s.setM(existingMemcg(s, e.memcg) * MS + M_SWAP_MAX, e.swapMaxPages);
      return null;
    case 'PagesLazyFreeMarked':
      forEachPfn(e.pfns, (i) => lazyFree(s, userFrame(s, i), e.lazy), s);
      return null;
    case 'MemcgEventCounted': {
      memcgEvent(s, existingMemcg(s, e.memcg), e.kind);
      if (e.kind === 'oom_kill') s.ctr[E_OOM_KILL]++;
      return null;
    }
    default:
      return unreachable(e, 'frames event');
  }
}

// ---- helpers ----------------------------------------------------------------------------

function forEachPfn(runs: readonly PfnRun[], f: (i: number) => void, s: FramesState): void {
  for (const r of runs) {
    for (let k = 0; k < r.count; k++) {
      const i = idxOfPfn(r.pfn + k, s.nFrames);
      if (i < 0) throw notFound('frames.NO_SUCH_PFN', `pfn ${r.pfn + k} is not RAM of this machine`);
      f(i);
    }
  }
}

function userFrame(s: FramesState, i: number): number {
  if (!isUserFrame(s, i)) throw precondition('frames.NOT_A_USER_PAGE', `pfn ${pfnOfIdx(i)} is not an allocated user page`);
  return i;
}

function existingMemcg(s: FramesState, id: number): number {
  const m = s.memcgIdx.get(id);
  if (m === undefined) throw notFound('frames.NO_SUCH_MEMCG', `memcg ${id} does not exist`);
  return m;
}

/** The LRU list a new user page of this kind starts on. */
function newPageLru(s: FramesState, kind: number, mlocked: boolean): number {
  if (mlocked) return LRU_UNEVICTABLE;
  if (isFileLru(kind)) return LRU_INACTIVE_FILE;
  // 6.x (since 5.9): new anon pages start inactive; 2.6.18 lru_cache_add_active() for anon.
  if (kind === K_ANON && s.profile === 'linux-2.6.18') return LRU_ACTIVE_ANON;
  return LRU_INACTIVE_ANON;
}

const userClassZone = (s: FramesState): number => ZONE_MODELS[s.profile].userClassZone;
const memcgFailure = (s: FramesState, m: number): AllocConstraint => ({ kind: 'memcg', memcg: memcgId(s, m) });

/**
 * One new user page: allocate, charge, install. Returns the frame, or a constraint that failed.
 * Pins nothing: the caller holds a reference on handle h.
 */
function newUserPage(s: FramesState, ev: EvictionLog, h: number, m: number, pageIndex: number, lru: number, allowReclaim: boolean): number | AllocConstraint {
  const i = allocFrame(s, ev, userClassZone(s), allowReclaim);
  if (i < 0) return GLOBAL;
  const over = tryCharge(s, ev, m, allowReclaim);
  if (over >= 0) {
    unallocFrame(s, i);
    return memcgFailure(s, over);
  }
  installUserPage(s, i, h, m, pageIndex, lru, 0);
  if (lru === LRU_UNEVICTABLE) s.ctr[E_MLOCKED]++;
  return i;
}

function allocUserPages(s: FramesState, e: Extract<FramesEvent, { type: 'UserPagesAllocated' }>): AllocOutcome {
  const ev = new EvictionLog();
  const got = new PfnRuns();
  let failed: AllocConstraint | null = null;
  const m = memcgIndex(s, e.memcg);
  for (const r of e.pages) {
    if (failed !== null) break;
    const kind = kindCode(r.kind);
    const h = getHandle(s, kind, r.owner, m);
    refHandle(s, h, 1); // pin: reclaim may free this owner's other pages meanwhile
    const lru = newPageLru(s, kind, e.mlocked);
    if (kind !== K_ANON) {
      // A page already in the page cache is a bad call, whatever the memory situation.
      for (let k = 0; k < r.count; k++) {
        if (pcGet(s, s.handleFile[h], r.index + k) !== 0) {
          throw precondition('frames.PAGE_CACHED', `${r.kind} ${r.owner} page ${r.index + k} is already in the page cache`);
        }
      }
    }
    const cz = userClassZone(s);
    for (let k = 0; k < r.count;) {
      const fast = bulkAllocUser(s, cz, h, m, kind, r.index + k, r.count - k, lru, got);
      if (fast > 0) {
        k += fast;
        continue;
      }
      const got1 = newUserPage(s, ev, h, m, r.index + k, lru, e.allowReclaim);
      if (typeof got1 !== 'number') {
        failed = got1;
        break;
      }
      got.push(pfnOfIdx(got1));
      k++;
    }
    refHandle(s, h, -1);
  }
  reclaimHigh(s, ev, m);
  runKswapd(s, ev);
  return { pfns: got.done(), evicted: ev.done(), failed, majorFaults: 0 };
}

function swapIn(s: FramesState, e: Extract<FramesEvent, { type: 'SwappedIn' }>): AllocOutcome {
  const slot = e.slot;
  if (!slotInUse(s, slot) || swapCount(s, slot) === 0) {
    throw notFound('frames.NO_SUCH_SWAP_ENTRY', `swap slot ${slot} has no swap entry to fault in`);
  }
  const ev = new EvictionLog();
  let i = s.swapCacheBySlot.get(slot) ?? -1;
  let major = 0;
  if (i < 0) {
    const m = memcgIndex(s, e.memcg);
    const h = getHandle(s, K_ANON, e.page.owner, m);
    refHandle(s, h, 1);
    const got = newUserPage(s, ev, h, m, e.page.index, newPageLru(s, K_ANON, e.mlocked), e.allowReclaim);
    refHandle(s, h, -1);
    if (typeof got !== 'number') {
      runKswapd(s, ev);
      return { pfns: [], evicted: ev.done(), failed: got, majorFaults: 0 };
    }
    i = got;
    swapCacheAdd(s, i, slot);
    s.ctr[E_PSWPIN]++;
    s.ctr[E_PGPGIN] += 4;
    s.ctr[E_MAJFAULT]++;
    major = 1;
  }
  // swap_free(entry): the PTE's reference is consumed; then should_try_to_free_swap().
  setSwapCount(s, slot, swapCount(s, slot) - 1);
  if (swapCount(s, slot) === 0 && (swapFullFor(s, i) || e.mlocked || e.write) && s.swapCacheBySlot.get(slot) === i) swapCacheDel(s, i);
  reclaimHigh(s, ev, s.memcgIdx.get(e.memcg) ?? -1);
  runKswapd(s, ev);
  return { pfns: [oneRun(i)], evicted: ev.done(), failed: null, majorFaults: major };
}

/** free_swap_and_cache(): one reference less; with swap more than half full, a cached copy is dropped too. */
function freeSwapRef(s: FramesState, slot: number): void {
  if (!slotInUse(s, slot) || swapCount(s, slot) === 0) throw notFound('frames.NO_SUCH_SWAP_ENTRY', `swap slot ${slot} has no reference to free`);
  setSwapCount(s, slot, swapCount(s, slot) - 1);
  const cached = s.swapCacheBySlot.get(slot);
  if (swapCount(s, slot) === 0 && cached !== undefined && swapFullFor(s, cached)) swapCacheDel(s, cached);
}

/** mem_cgroup_swap_full() for the page in frame i (its memcg's swap.max counts, not only the device). */
const swapFullFor = (s: FramesState, i: number): boolean => memcgSwapFull(s, s.handleMemcg[handleOf(s.word[i])]);

/** folio_mark_accessed(): referenced on the first access, activated on the second. */
function markAccessed(s: FramesState, i: number): void {
  const w = s.word[i];
  const lru = lruOf(w);
  if ((w & F_REFERENCED) === 0) {
    s.setWord(i, (w | F_REFERENCED) >>> 0);
    return;
  }
  if (lru !== LRU_INACTIVE_ANON && lru !== LRU_INACTIVE_FILE) return;
  const m = s.handleMemcg[handleOf(w)];
  lruDel(s, m, lru, i);
  s.setWord(i, (withLru(w, lru + 1) & ~F_REFERENCED) >>> 0);
  lruAdd(s, m, lru + 1, i);
  s.ctr[E_PGACTIVATE]++;
}

function mlock(s: FramesState, i: number, lock: boolean): void {
  const w = s.word[i];
  const lru = lruOf(w);
  const h = handleOf(w);
  const m = s.handleMemcg[h];
  const zm = Z0 + zoneOf(s, i) * ZS + ZF_MLOCK;
  if (lock === (lru === LRU_UNEVICTABLE)) return;
  lruDel(s, m, lru, i);
  const to = lock ? LRU_UNEVICTABLE : isFileLru(s.handleKind[h]) ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
  s.setWord(i, withLru(w, to));
  lruAdd(s, m, to, i);
  const d = lock ? 1 : -1;
  s.ctr[N_MLOCK] += d;
  s.ctr[zm] += d;
  s.ctr[lock ? E_MLOCKED : E_MUNLOCKED]++;
}

function filePage(s: FramesState, e: Extract<FramesEvent, { type: 'FilePageFaulted' }>): AllocOutcome {
  const kind = kindCode(e.kind);
  const ev = new EvictionLog();
  const existing = findFileNo(s, kind, e.file);
  const v = existing < 0 ? 0 : pcGet(s, existing, e.index);
  if (v > 0) {
    const i = v - 1;
    if (isFileLru(kind)) markAccessed(s, i);
    if (e.mlocked) mlock(s, i, true);
    return { pfns: [oneRun(i)], evicted: [], failed: null, majorFaults: 0 };
  }
  const m = memcgIndex(s, e.memcg);
  const h = getHandle(s, kind, e.file, m);
  refHandle(s, h, 1);
  const got = newUserPage(s, ev, h, m, e.index, newPageLru(s, kind, e.mlocked), e.allowReclaim);
  refHandle(s, h, -1);
  if (typeof got !== 'number') {
    runKswapd(s, ev);
    return { pfns: [], evicted: ev.done(), failed: got, majorFaults: 0 };
  }
  let major = 0;
  if (v < 0) {
    // shmem_swapin_folio(): read back, then the swap entry is dropped (the page cache holds the page now).
    const slot = -v - 1;
    setSwapCount(s, slot, swapCount(s, slot) - 1);
    s.ctr[E_PSWPIN]++;
    s.ctr[E_PGPGIN] += 4;
    major = 1;
  } else if (kind !== K_SHMEM) {
    s.ctr[E_PGPGIN] += 4; // read from the file
    major = 1;
  }
  s.ctr[E_MAJFAULT] += major;
  reclaimHigh(s, ev, m);
  runKswapd(s, ev);
  return { pfns: [oneRun(got)], evicted: ev.done(), failed: null, majorFaults: major };
}

/**
 * GetFilePages: pages index .. index + count - 1 of a file in order, each as filePage() gets one
 * (a hit is marked accessed; a miss is read from disk, or a new zeroed shmem page, or a shmem
 * page back from swap), until one cannot be had. read(2) (e.read) is not a page fault: pages it
 * reads from disk count in pgpgin and in the outcome's majorFaults, not in pgmajfault.
 */
function filePages(s: FramesState, e: Extract<FramesEvent, { type: 'FilePagesFaulted' }>): AllocOutcome {
  const kind = kindCode(e.kind);
  const ev = new EvictionLog();
  const got = new PfnRuns();
  let failed: AllocConstraint | null = null;
  let major = 0;
  const m = memcgIndex(s, e.memcg);
  let f = findFileNo(s, kind, e.file);
  let h = -1;
  const lru = newPageLru(s, kind, e.mlocked);
  for (let k = 0; k < e.count; k++) {
    const index = e.index + k;
    const v = f < 0 ? 0 : pcGet(s, f, index);
    if (v > 0) {
      const i = v - 1;
      if (isFileLru(kind)) markAccessed(s, i);
      if (e.mlocked) mlock(s, i, true);
      got.push(pfnOfIdx(i));
      continue;
    }
    if (h < 0) {
      h = getHandle(s, kind, e.file, m);
      refHandle(s, h, 1); // pinned while reclaim runs
      f = s.handleFile[h];
    }
    const got1 = newUserPage(s, ev, h, m, index, lru, e.allowReclaim);
    if (typeof got1 !== 'number') {
      failed = got1;
      break;
    }
    if (v < 0) {
      const slot = -v - 1;
      setSwapCount(s, slot, swapCount(s, slot) - 1);
      s.ctr[E_PSWPIN]++;
      s.ctr[E_PGPGIN] += 4;
      major++;
      if (!e.read) s.ctr[E_MAJFAULT]++;
    } else if (kind !== K_SHMEM) {
      s.ctr[E_PGPGIN] += 4;
      major++;
      if (!e.read) s.ctr[E_MAJFAULT]++;
    }
    // filemap_read() marks every folio it copies accessed, a page it just read included.
    if (e.read && isFileLru(kind)) markAccessed(s, got1);
    got.push(pfnOfIdx(got1));
  }
  if (h >= 0) refHandle(s, h, -1);
  reclaimHigh(s, ev, m);
  runKswapd(s, ev);
  return { pfns: got.done(), evicted: ev.done(), failed, majorFaults: major };
}

/** SwapInPages: swapIn() for each entry in order, until a page cannot be had. */
function swapInPages(s: FramesState, e: Extract<FramesEvent, { type: 'PagesSwappedIn' }>): AllocOutcome {
  const ev = new EvictionLog();
  const got = new PfnRuns();
  let failed: AllocConstraint | null = null;
  let major = 0;
  const m = memcgIndex(s, e.memcg);
  const h = getHandle(s, K_ANON, e.owner, m);
  refHandle(s, h, 1);
  const lru = newPageLru(s, K_ANON, e.mlocked);
  outer: for (const r of e.entries) {
    for (let k = 0; k < r.count; k++) {
      const slot = r.slot + k;
      if (!slotInUse(s, slot) || swapCount(s, slot) === 0) {
        throw notFound('frames.NO_SUCH_SWAP_ENTRY', `swap slot ${slot} has no swap entry to fault in`);
      }
      let i = s.swapCacheBySlot.get(slot) ?? -1;
      if (i < 0) {
        const got1 = newUserPage(s, ev, h, m, r.index + k, lru, e.allowReclaim);
        if (typeof got1 !== 'number') {
          failed = got1;
          break outer;
        }
        i = got1;
        swapCacheAdd(s, i, slot);
        s.ctr[E_PSWPIN]++;
        s.ctr[E_PGPGIN] += 4;
        s.ctr[E_MAJFAULT]++;
        major++;
      }
      setSwapCount(s, slot, swapCount(s, slot) - 1);
      if (swapCount(s, slot) === 0 && (swapFullFor(s, i) || e.mlocked || e.write) && s.swapCacheBySlot.get(slot) === i) swapCacheDel(s, i);
      got.push(pfnOfIdx(i));
    }
  }
  refHandle(s, h, -1);
  reclaimHigh(s, ev, m);
  runKswapd(s, ev);
  return { pfns: got.done(), evicted: ev.done(), failed, majorFaults: major };
}

/** memory_high_write(): memory.high set, then reclaim until the memcg is under it or reclaim gives up (no OOM). */
function setMemcgHigh(s: FramesState, id: number, highPages: number): EvictOutcome {
  const m = existingMemcg(s, id);
  s.setM(m * MS + M_HIGH, highPages);
  const ev = new EvictionLog();
  let retries = MAX_RECLAIM_RETRIES;
  while (highPages !== UNLIMITED && memcgCurrent(s, m) > highPages) {
    if (memcgReclaim(s, ev, m, memcgCurrent(s, m) - highPages) > 0) continue;
    if (retries-- === 0) break;
  }
  return { evicted: ev.done() };
}

/**
 * mm/swap.c folio_mark_lazyfree(): an exclusive anonymous page that is not in the swap cache and
 * not mlocked goes to the inactive file list (reclaim drops it); lazy false: written again, it
 * goes back to the anon list (the kernel finds it dirty at reclaim and does the same).
 */
function lazyFree(s: FramesState, i: number, lazy: boolean): void {
  const w = s.word[i];
  const h = handleOf(w);
  if (s.handleKind[h] !== K_ANON) throw precondition('frames.NOT_ANON', `pfn ${pfnOfIdx(i)} is not an anonymous page`);
  const lru = lruOf(w);
  if (lru === LRU_UNEVICTABLE || (w & F_SWAPCACHE) !== 0) return;
  if (lazy === isLazyFree(w)) return;
  const m = s.handleMemcg[h];
  const to = lazy ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
  lruDel(s, m, lru, i);
  s.setWord(i, (withLru(w, to) & ~F_REFERENCED) >>> 0);
  lruAdd(s, m, to, i);
  if (lazy) s.ctr[E_PGLAZYFREE]++;
}

function truncate(s: FramesState, file: number, kindName: FileKind): EvictOutcome {
  const ev = new EvictionLog();
  const kind = kindCode(kindName);
  const f = findFileNo(s, kind, file);
  if (f < 0) return { evicted: [] };
  for (const [index, v] of pcEntries(s, f)) {
    if (v > 0) {
      const i = v - 1;
      removeUserPage(s, i, true, 0);
      ev.push(pfnOfIdx(i), pageKindOf(kind), file, index, -1);
    } else {
      const slot = -v - 1;
      pcSet(s, f, index, 0);
      setSwapCount(s, slot, swapCount(s, slot) - 1);
    }
  }
  return { evicted: ev.done() };
}

function allocKernelPages(s: FramesState, e: Extract<FramesEvent, { type: 'KernelPagesAllocated' }>): AllocOutcome {
  const ev = new EvictionLog();
  const got = new PfnRuns();
  let failed: AllocConstraint | null = null;
  const m = memcgIndex(s, e.memcg);
  const kind = KERNEL_PAGE_KINDS.indexOf(e.kind);
  for (let k = 0; k < e.pages; k++) {
    const i = allocFrame(s, ev, ZONE_MODELS[s.profile].kernelClassZone, e.allowReclaim);
    if (i < 0) {
      failed = GLOBAL;
      break;
    }
    const over = tryCharge(s, ev, m, e.allowReclaim);
    if (over >= 0) {
      unallocFrame(s, i);
      failed = memcgFailure(s, over);
      break;
    }
    installKernelPage(s, i, m, kind);
    got.push(pfnOfIdx(i));
  }
  reclaimHigh(s, ev, m);
  runKswapd(s, ev);
  return { pfns: got.done(), evicted: ev.done(), failed, majorFaults: 0 };
}

/** memory.max written (memory_max_write): reclaim down to the new limit; if that fails, the memcg is out of memory. */
function setMemcgLimit(s: FramesState, id: number, maxPages: number, parentId: number): EvictOutcome & { failed: AllocConstraint | null } {
  const parent = existingMemcg(s, parentId);
  let m = s.memcgIdx.get(id);
  if (m === undefined) {
    m = createMemcg(s, id, parent, maxPages);
  } else {
    if (s.mcg[m * MS + M_PARENT] !== parent) {
      if (memcgCurrent(s, m) > 0) throw precondition('frames.MEMCG_IN_USE', `memcg ${id} has pages; it cannot move under memcg ${parentId}`);
      if (inSubtree(s, parent, m)) throw invalid('frames.MEMCG_CYCLE', `memcg ${parentId} is inside memcg ${id}`);
      s.setM(m * MS + M_PARENT, parent);
    }
    s.setM(m * MS + M_MAX, maxPages);
  }
  const ev = new EvictionLog();
  let failed: AllocConstraint | null = null;
  let retries = MAX_RECLAIM_RETRIES;
  while (maxPages !== UNLIMITED && memcgCurrent(s, m) > maxPages) {
    if (retries > 0) {
      if (memcgReclaim(s, ev, m, memcgCurrent(s, m) - maxPages) === 0) retries--;
      continue;
    }
    failed = memcgFailure(s, m);
    break;
  }
  return { evicted: ev.done(), failed };
}

