// What vm asks frames, in frames' command language (frames/types.ts FramesCommand), and the
// answers read back in one shape. Every request to frames is built here, so a change on the
// frames side is one change here.
import type { AllocConstraint, EvictedPage, FramesTotals, PageKind, PageOwner } from '../contracts/frames.js';
import { ask, type Step } from './ctx.js';
import type { EvictedRun } from './types.js';

export type { EvictedRun } from './types.js';

/** `count` pages of one owner at consecutive indexes (frames' OwnerRun). */
export interface OwnerRun {
  readonly kind: PageKind;
  readonly owner: number;
  readonly index: number;
  readonly count: number;
}


/** An allocation's answer, normalized. */
export interface Granted {
  readonly pfns: number[];
  readonly evicted: EvictedRun[];
  readonly failed: AllocConstraint | null;
  readonly majorFaults: number;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null;

/** The outcome inside an answer: frames' answer() may give the outcome itself, or its events. */
function outcomeOf(reply: unknown): Obj {
  if (Array.isArray(reply)) {
    for (const e of reply) if (isObj(e) && isObj(e.outcome)) return e.outcome;
    return {};
  }
  if (isObj(reply) && isObj(reply.outcome) && !('pfns' in reply)) return reply.outcome;
  return isObj(reply) ? reply : {};
}

function pfnList(x: unknown): number[] {
  if (!Array.isArray(x)) return [];
  if (x.length === 0 || typeof x[0] === 'number') return x as number[];
  const out: number[] = [];
  for (const p of x) {
    if (typeof p === 'number') out.push(p);
    else if (isObj(p) && typeof p.pfn === 'number') {
      const n = typeof p.count === 'number' ? p.count : 1;
      for (let k = 0; k < n; k++) out.push(p.pfn + k);
    }
  }
  return out;
}

export function evictedRuns(x: unknown): EvictedRun[] {
  if (!Array.isArray(x)) return [];
  const out: EvictedRun[] = [];
  for (const e of x) {
    if (!isObj(e)) continue;
    if (isObj(e.page)) {
      const p = e.page as unknown as PageOwner;
      out.push({ pfn: e.pfn as number, count: 1, kind: p.kind, owner: p.owner, index: p.index, slot: (e as unknown as EvictedPage).swapSlot });
    } else {
      out.push({ pfn: e.pfn as number, count: (e.count as number) ?? 1, kind: e.kind as PageKind, owner: e.owner as number, index: e.index as number, slot: e.slot as number });
    }
  }
  return out;
}

export function granted(reply: unknown): Granted {
  const o = outcomeOf(reply);
  return {
    pfns: pfnList(o.pfns),
    evicted: evictedRuns(o.evicted),
    failed: (o.failed as AllocConstraint | null | undefined) ?? null,
    majorFaults: typeof o.majorFaults === 'number' ? o.majorFaults : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

export function* allocUserPages(memcg: number, runs: readonly OwnerRun[], mlocked: boolean): Step<Granted> {
  return granted(yield* ask('frames', { type: 'AllocUserPages', runs, memcg, allowReclaim: true, mlocked }));
}

export function* allocPageTables(memcg: number, pages: number): Step<Granted> {
  return granted(yield* ask('frames', { type: 'AddKernelPages', kind: 'pagetable', pages, memcg, allowReclaim: true }));
}

export function* freePageTables(memcg: number, pages: number): Step<void> {
  yield* ask('frames', { type: 'FreeKernelPages', kind: 'pagetable', pages, memcg });
}

/**
 * alloc_thread_stack_node(): kernel stacks for new tasks, `pages` in all, charged to memcg
 * (__GFP_ACCOUNT). GFP_KERNEL may reclaim; what frames could not give is `failed`.
 */
export function* allocKernelStacks(memcg: number, pages: number): Step<Granted> {
  return granted(yield* ask('frames', { type: 'AddKernelPages', kind: 'kernel_stack', pages, memcg, allowReclaim: true }));
}

/** exit_task_stack_account() + free_thread_stack(): stacks given back, uncharged from the memcg they were charged to. */
export function* freeKernelStacks(memcg: number, pages: number): Step<void> {
  yield* ask('frames', { type: 'FreeKernelPages', kind: 'kernel_stack', pages, memcg });
}

export function* getFilePage(file: number, index: number, memcg: number, kind: 'file' | 'shmem', mlocked: boolean): Step<Granted> {
  return granted(yield* ask('frames', { type: 'GetFilePage', file, index, memcg, kind, mlocked, allowReclaim: true }));
}

export function* swapIn(slot: number, page: PageOwner, memcg: number, write: boolean, mlocked: boolean): Step<Granted> {
  return granted(yield* ask('frames', { type: 'SwapIn', slot, page, memcg, write, mlocked, allowReclaim: true }));
}

/** Pages index .. index + count - 1 of a file (frames' GetFilePages); read: read(2), not page faults. */
export function* getFilePages(file: number, index: number, count: number, memcg: number, kind: 'file' | 'shmem', mlocked: boolean, read: boolean): Step<Granted> {
  return granted(yield* ask('frames', { type: 'GetFilePages', file, index, count, memcg, kind, mlocked, allowReclaim: true, read }));
}

/** Swap entries slot..slot+count-1 holding pages index..index+count-1 of the anon family `owner`. */
export interface SwapRun {
  readonly slot: number;
  readonly index: number;
  readonly count: number;
}

/** do_swap_page() for several swap entries of one family, in order (frames' SwapInPages). */
export function* swapInPages(owner: number, entries: readonly SwapRun[], memcg: number, write: boolean, mlocked: boolean): Step<Granted> {
  return granted(yield* ask('frames', { type: 'SwapInPages', owner, entries, memcg, write, mlocked, allowReclaim: true }));
}

/** MADV_FREE (lazy) of exclusive anonymous pages, or a write that made them dirty again (!lazy). */
export function* markLazyFree(pfns: readonly number[], lazy: boolean): Step<void> {
  yield* chunked(pfns, function* (part) {
    yield* ask('frames', { type: 'MarkLazyFree', pfns: part, lazy });
  });
}

/** memory.high in pages (null: "max"): frames reclaims down to it; the answer lists what it took. */
export function* setMemcgHigh(memcg: number, highPages: number | null): Step<Granted> {
  return granted(yield* ask('frames', { type: 'SetMemcgHigh', memcg, highPages }));
}

/** memory.swap.max in pages (null: "max"): frames charges swap-outs against it; nothing is reclaimed. */
export function* setMemcgSwapMax(memcg: number, swapMaxPages: number | null): Step<void> {
  yield* ask('frames', { type: 'SetMemcgSwapMax', memcg, swapMaxPages });
}

/** frames takes at most 2^20 pages per command; vm asks for at most this many at once. */
export const FRAMES_BATCH = 2 ** 18;

function* chunked(list: readonly number[], f: (part: readonly number[]) => Step<void>): Step<void> {
  if (list.length <= FRAMES_BATCH) return yield* f(list);
  for (let i = 0; i < list.length; i += FRAMES_BATCH) yield* f(list.slice(i, i + FRAMES_BATCH));
}

export function* freeUserPages(pfns: readonly number[]): Step<void> {
  yield* chunked(pfns, function* (part) {
    yield* ask('frames', { type: 'FreeUserPages', pfns: part });
  });
}

export function* freeSwapSlots(slots: readonly number[]): Step<void> {
  yield* chunked(slots, function* (part) {
    yield* ask('frames', { type: 'FreeSwapSlots', slots: part });
  });
}

export function* dupSwapSlots(slots: readonly number[]): Step<void> {
  yield* chunked(slots, function* (part) {
    yield* ask('frames', { type: 'DupSwapSlots', slots: part });
  });
}

export function* truncateShmem(file: number): Step<void> {
  yield* ask('frames', { type: 'TruncateFile', file, kind: 'shmem' });
}

export function* mlockPages(pfns: readonly number[], lock: boolean): Step<void> {
  yield* chunked(pfns, function* (part) {
    yield* ask('frames', { type: 'MlockPages', pfns: part, lock });
  });
}

export function* framesTick(nowNs: number): Step<EvictedRun[]> {
  const reply = yield* ask('frames', { type: 'Tick', nowNs });
  return evictedRuns(outcomeOf(reply).evicted);
}

/** Creates or updates a memcg in frames (memory.max in pages, null: "max"); failed: reclaim could not get under it. */
export function* setMemcgLimit(memcg: number, maxPages: number | null, parent: number): Step<Granted> {
  return granted(yield* ask('frames', { type: 'SetMemcgLimit', memcg, maxPages, parent }));
}

export function* memcgEvent(memcg: number, kind: 'oom' | 'oom_kill' | 'oom_group_kill'): Step<void> {
  yield* ask('frames', { type: 'MemcgEvent', memcg, kind });
}

/** The live figures (a query: frames changes nothing). */
export function* getTotals(): Step<FramesTotals> {
  return (yield* ask('frames', { type: 'GetTotals' })) as FramesTotals;
}
