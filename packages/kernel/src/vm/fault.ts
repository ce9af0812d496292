// Demand paging: the page faults a touch (loads and stores) causes, in address order.
//   mm/memory.c handle_mm_fault(): do_anonymous_page (a read maps the zero page, a write a new
//   zeroed page), do_read_fault / do_cow_fault / do_shared_fault (file and shmem pages through
//   the page cache), do_swap_page (major), do_wp_page (COW copy, or reuse of an exclusive page);
//   mm/mmap.c expand_stack() below the stack VMA.
// Pages are gathered into batches of one kind of frames request (new anonymous pages, page-cache
// pages, swap-ins); each batch first gets its page tables (PTE/PMD/PUD pages, also from frames),
// then the pages: one request per batch (anonymous pages, swap-ins) or per run of one file.
// A failed allocation runs the OOM killer and the rest of the batch is retried.
// Reclaim during a request may take back pages the request itself got before vm mapped them
// (the kernel cannot: a page being faulted in is locked). Those evictions are applied after the
// faults that map them, so the PTEs end as swap entries (or empty) as frames has the pages.
import type { TouchResult } from '../contracts/heap-sys.js';
import { PAGE_SIZE, PTRS_PER_TABLE, STACK_GUARD_GAP, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_READ, VM_SHARED, VM_WRITE } from './constants.js';
import type { Ctx, Step } from './ctx.js';
import { allocPageTables, allocUserPages, FRAMES_BATCH, getFilePages, markLazyFree, swapInPages, type EvictedRun, type Granted, type OwnerRun, type SwapRun } from './frames-port.js';
import { emptyRelease, mergeRelease, missingTablesForRuns, type Release } from './mm-ops.js';
import { outOfMemory } from './oom-flow.js';
import { PTE_ANON, PTE_LAZY, PTE_WRITE, PTE_ZERO, isPresent, isSwap, pteBits, ptePfn, pteIndex, swapSlot } from './page-table.js';
import { settle } from './settle.js';
import type { TouchSpan } from './spans.js';
import { exitGroup } from './task-exit.js';
import type { FaultHow, Mm, Task, Vma } from './types.js';
import { findVmaIndex } from './vma-list.js';
import { chargeOk } from './charge.js';
import { SIGSEGV } from './constants.js';

// What a page needs.
const A_NONE = 0;
const A_ZERO = 1;
const A_ANON = 2;
const A_COW = 3;
const A_REUSE = 4;
const A_REDIRTY = 5;
const A_FILE = 6;
const A_SHMEM = 7;
const A_FILECOW = 8;
const A_SWAPIN = 9;

// Which frames request a batch is for.
const K_NONE = 0;
const K_ALLOC = 1;
const K_FILE = 2;
const K_SWAP = 3;

const kindOf = (a: number): number =>
  a === A_ANON || a === A_COW || a === A_FILECOW ? K_ALLOC : a === A_FILE || a === A_SHMEM ? K_FILE : a === A_SWAPIN ? K_SWAP : K_NONE;

export interface FaultOptions {
  /** What the faults are for, in the OOM report: 'page-fault', 'mmap-populate', 'mlock', 'exec'. */
  readonly context: string;
  /** mm_populate(): skip inaccessible VMAs; write faults only where the mapping is private and writable. */
  readonly populate?: boolean;
  /** FOLL_FORCE (exec's loader writing RELRO before it is made read-only): writes to private read-only mappings are allowed. */
  readonly force?: boolean;
}

/**
 * A run of pages of a batch: vpn .. vpn + count - 1, one action (A_* | F_WRITE | F_LOCKED);
 * aux is the first page's linear index (anon: rmap index; file/shmem: file page index) and grows
 * by one per page; swap entries are runs of one page with aux = the slot, aux2 = the rmap index.
 */
interface Entry {
  vpn: number;
  count: number;
  readonly act: number;
  readonly aux: number;
  readonly aux2: number;
}

/** A batch of page runs in address order, all needing one kind of frames request (or none). */
class Batch {
  kind = K_NONE;
  readonly entries: Entry[] = [];
  pages = 0;
  add(vpn: number, count: number, act: number, aux: number, aux2: number): void {
    const l = this.entries[this.entries.length - 1];
    this.pages += count;
    if (l && l.act === act && l.vpn + l.count === vpn && l.aux2 === aux2 && (act & 15) !== A_SWAPIN && l.aux + l.count === aux) {
      l.count += count;
      return;
    }
    this.entries.push({ vpn, count, act, aux, aux2 });
  }
  clear(): void {
    this.kind = K_NONE;
    this.entries.length = 0;
    this.pages = 0;
  }
}

const F_WRITE = 16;
const F_LOCKED = 32;
const actOf = (e: Entry): number => e.act & 15;
const writeOf = (e: Entry): boolean => (e.act & F_WRITE) !== 0;
const lockedOf = (e: Entry): boolean => (e.act & F_LOCKED) !== 0;

type FlushResult = { readonly status: 'ok' } | { readonly status: 'restart'; readonly vpn: number } | { readonly status: 'stop'; readonly result: TouchResult };

const OK: FlushResult = { status: 'ok' };

/**
 * Faults in the pages of `spans` for task `pid`. Returns the touch's result; the events (and
 * the frames and oom requests) are in ctx.
 */
export function* faultIn(ctx: Ctx, pid: number, spans: readonly TouchSpan[], opts: FaultOptions): Step<TouchResult> {
  const batch = new Batch();
  let si = 0;
  let vpn = spans.length ? spans[0].start : 0;
  let vma: Vma | undefined;
  while (si < spans.length) {
    const span = spans[si];
    if (vpn >= span.end) {
      si++;
      if (si < spans.length) vpn = Math.max(vpn, spans[si].start);
      continue;
    }
    if (vpn < span.start) vpn = span.start;
    const task = ctx.w.task(pid) as Task;
    if (task.state !== 'running' || task.killPending) return { ok: false, signal: 'SIGKILL', addr: vpn * PAGE_SIZE };
    const mm = ctx.w.mm(task.mmId) as Mm;
    const addr = vpn * PAGE_SIZE;
    if (!vma || addr < vma.start || addr >= vma.end) {
      vma = vmaFor(mm, addr);
      if (!vma) {
        // Below the stack? expand_stack(), else SIGSEGV.
        const r = yield* flush(ctx, pid, batch);
        if (r.status === 'stop') return r.result;
        if (r.status === 'restart') {
          vpn = r.vpn;
          si = spanIndex(spans, vpn);
          continue;
        }
        if (opts.populate) {
          vpn = nextMappedVpn(mm, addr, span.end);
          continue;
        }
        if (!(yield* expandStack(ctx, pid, mm, addr))) return yield* segv(ctx, pid, addr);
        continue;
      }
    }
    let write = span.write;
    if (opts.populate) {
      if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0 || vma.kind === 'special') {
        vpn = vma.end / PAGE_SIZE;
        continue;
      }
      write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    } else if (write ? (vma.flags & VM_WRITE) === 0 && !(opts.force && (vma.flags & VM_SHARED) === 0) : (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) {
      const r = yield* flush(ctx, pid, batch);
      if (r.status === 'stop') return r.result;
      if (r.status === 'restart') {
        vpn = r.vpn;
        si = spanIndex(spans, vpn);
        continue;
      }
      return yield* segv(ctx, pid, addr);
    }
    // Walk the pages of this span inside this VMA, a PTE table at a time.
    const end = Math.min(span.end, vma.end / PAGE_SIZE);
    const pt = ctx.w.pt(mm.id);
    const flagBits = (write ? F_WRITE : 0) | ((vma.flags & VM_LOCKED) !== 0 ? F_LOCKED : 0);
    const indexBase = vma.pgoff - vma.start / PAGE_SIZE;
    const file = vma.file;
    let restartAt = -1;
    walk: while (vpn < end) {
      const idx = pteIndex(vpn);
      const tableEnd = Math.min(end, (idx + 1) * PTRS_PER_TABLE);
      const t = pt?.table(idx);
      if (!t) {
        // No PTE table: every page of the stretch needs the same thing.
        const act = classify(ctx, vma, 0, write);
        if (act !== A_NONE) {
          const k = kindOf(act);
          if (k !== K_NONE && batch.kind !== K_NONE && batch.kind !== k) {
            const r = yield* flush(ctx, pid, batch);
            if (r.status === 'stop') return r.result;
            restartAt = r.status === 'restart' ? r.vpn : vpn;
            break walk;
          }
          if (k !== K_NONE) batch.kind = k;
          batch.add(vpn, tableEnd - vpn, act | flagBits, indexBase + vpn, file);
        }
        vpn = tableEnd;
        if (batch.pages >= FRAMES_BATCH) {
          const r = yield* flush(ctx, pid, batch);
          if (r.status === 'stop') return r.result;
          if (r.status === 'restart') {
            restartAt = r.vpn;
            break walk;
          }
        }
        continue;
      }
      const base = idx * PTRS_PER_TABLE;
      for (; vpn < tableEnd; vpn++) {
        const pte = t[vpn - base];
        const act = classify(ctx, vma, pte, write);
        if (act === A_NONE) continue;
        const k = kindOf(act);
        if (k !== K_NONE && batch.kind !== K_NONE && batch.kind !== k) {
          const r = yield* flush(ctx, pid, batch);
          if (r.status === 'stop') return r.result;
          restartAt = r.status === 'restart' ? r.vpn : vpn;
          break walk;
        }
        if (k !== K_NONE) batch.kind = k;
        if (act === A_SWAPIN) batch.add(vpn, 1, act | flagBits, swapSlot(pte), indexBase + vpn);
        else batch.add(vpn, 1, act | flagBits, indexBase + vpn, file);
        if (batch.pages >= FRAMES_BATCH) {
          const r = yield* flush(ctx, pid, batch);
          if (r.status === 'stop') return r.result;
          restartAt = r.status === 'restart' ? r.vpn : vpn + 1;
          break walk;
        }
      }
    }
    if (restartAt >= 0) {
      vpn = restartAt;
      si = spanIndex(spans, vpn);
      vma = undefined;
    }
  }
  const r = yield* flush(ctx, pid, batch);
  if (r.status === 'stop') return r.result;
  if (r.status === 'restart') return yield* faultIn(ctx, pid, resumeFrom(spans, r.vpn), opts);
  return { ok: true };
}

function resumeFrom(spans: readonly TouchSpan[], vpn: number): TouchSpan[] {
  const out: TouchSpan[] = [];
  for (const s of spans) {
    if (s.end <= vpn) continue;
    out.push(s.start >= vpn ? s : { ...s, start: vpn });
  }
  return out;
}

function spanIndex(spans: readonly TouchSpan[], vpn: number): number {
  for (let i = 0; i < spans.length; i++) if (spans[i].end > vpn) return i;
  return spans.length;
}

function vmaFor(mm: Mm, addr: number): Vma | undefined {
  const i = findVmaIndex(mm.vmas, addr);
  return i >= 0 && mm.vmas[i].start <= addr ? mm.vmas[i] : undefined;
}

function nextMappedVpn(mm: Mm, addr: number, endVpn: number): number {
  const i = findVmaIndex(mm.vmas, addr);
  return i >= 0 ? Math.min(endVpn, Math.max(addr, mm.vmas[i].start) / PAGE_SIZE) : endVpn;
}

/** What the fault at a page needs, given the VMA, the PTE and the access. */
function classify(ctx: Ctx, v: Vma, pte: number, write: boolean): number {
  if (v.kind === 'special') return A_NONE;
  if (isPresent(pte)) {
    if (!write) return A_NONE;
    if (pte & PTE_WRITE) return pte & PTE_LAZY ? A_REDIRTY : A_NONE;
    if (pteBits(pte) & PTE_ANON) return (ctx.w.shared.get(ptePfn(pte)) ?? 1) === 1 ? A_REUSE : A_COW;
    return v.flags & VM_SHARED ? A_REUSE : A_COW;
  }
  if (pte === PTE_ZERO) return write ? A_COW : A_NONE;
  if (isSwap(pte)) return A_SWAPIN;
  if (v.kind === 'anon') return write ? A_ANON : A_ZERO;
  if (v.kind === 'shmem') return A_SHMEM;
  if (v.flags & VM_SHARED) return A_FILE;
  return write ? A_FILECOW : A_FILE;
}

function* segv(ctx: Ctx, pid: number, addr: number): Step<TouchResult> {
  yield* exitGroup(ctx, pid, 0, SIGSEGV, false);
  return { ok: false, signal: 'SIGSEGV', addr };
}

/**
 * expand_downwards(): an access below a VM_GROWSDOWN VMA grows it down to the page, unless that
 * comes within stack_guard_gap of the VMA below, or passes RLIMIT_STACK / RLIMIT_AS, or
 * overcommit refuses the pages.
 */
function* expandStack(ctx: Ctx, pid: number, mm: Mm, addr: number): Step<boolean> {
  const i = findVmaIndex(mm.vmas, addr);
  if (i < 0) return false;
  const stack = mm.vmas[i];
  if (!(stack.flags & VM_GROWSDOWN) || stack.start <= addr) return false;
  const newStart = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  const prev = i > 0 ? mm.vmas[i - 1] : undefined;
  if (prev && !(prev.flags & VM_GROWSDOWN) && prev.flags & (VM_READ | VM_WRITE | VM_EXEC) && newStart - prev.end < STACK_GUARD_GAP) return false;
  if (prev && newStart < prev.end) return false;
  const task = ctx.w.task(pid) as Task;
  const grow = (stack.start - newStart) / PAGE_SIZE;
  if (stack.end - newStart > task.rlimits.stack) return false;
  if ((mm.totalVm + grow) * PAGE_SIZE > task.rlimits.as) return false;
  if (!(yield* chargeOk(ctx, task, mm, grow))) return false;
  ctx.emit({ type: 'StackExpanded', pid, mmId: mm.id, newStart, chargedPages: grow });
  return true;
}

/** Page tables for every page of the batch. */
function* ensureTables(ctx: Ctx, pid: number, runs: readonly Entry[]): Step<FlushResult> {
  for (;;) {
    const task = ctx.w.task(pid) as Task;
    const mm = ctx.w.mm(task.mmId) as Mm;
    const keys = missingTablesForRuns(ctx.w.pt(mm.id), runs);
    if (keys.length === 0) return OK;
    const g = yield* allocPageTables(task.memcg, keys.length);
    yield* evicted(ctx, g.evicted, task.memcg);
    const got = g.failed ? Math.min(g.pfns.length, keys.length) : keys.length;
    if (got > 0) {
      const pfns = keys.slice(0, got).map((_, i) => g.pfns[i] ?? 0);
      ctx.emit({ type: 'PageTablesAllocated', mmId: mm.id, keys: keys.slice(0, got), pfns });
    }
    if (!g.failed) return OK;
    const out = yield* oom(ctx, pid, g, 'page-table', runs[0].vpn);
    if (out.status !== 'ok') return out;
  }
}

function* evicted(ctx: Ctx, runs: readonly EvictedRun[], memcg: number): Step<void> {
  if (runs.length === 0) return;
  yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs }), memcg);
}

/**
 * A request's evictions, split: `own` are pages of this very request (by owner, index and the
 * pfn it got for that index) that reclaim took back before vm mapped them; `others` the rest.
 * `pfnOf(index)` is the pfn the request got for page `index` of `owner` (-1: not one of its pages).
 */
function splitEvictions(runs: readonly EvictedRun[], kind: EvictedRun['kind'], owner: number, pfnOf: (index: number) => number): { others: EvictedRun[]; own: EvictedRun[] } {
  const others: EvictedRun[] = [];
  const own: EvictedRun[] = [];
  for (const r of runs) {
    if (r.kind !== kind || r.owner !== owner) {
      others.push(r);
      continue;
    }
    for (let k = 0; k < r.count; k++) {
      const page: EvictedRun = { pfn: r.pfn + k, count: 1, kind: r.kind, owner: r.owner, index: r.index + k, slot: r.slot < 0 ? -1 : r.slot + k };
      (pfnOf(page.index) === page.pfn ? own : others).push(page);
    }
  }
  return { others: joinRuns(others), own: joinRuns(own) };
}

/** Joins evicted pages that continue each other (pfn, index and slot all + 1) into runs. */
function joinRuns(rs: EvictedRun[]): EvictedRun[] {
  const out: EvictedRun[] = [];
  for (const r of rs) {
    const l = out[out.length - 1];
    if (l && l.kind === r.kind && l.owner === r.owner && l.pfn + l.count === r.pfn && l.index + l.count === r.index && (l.slot < 0 ? r.slot < 0 : l.slot + l.count === r.slot)) {
      out[out.length - 1] = { ...l, count: l.count + r.count };
    } else out.push(r);
  }
  return out;
}

/** After a failed allocation: the OOM killer; 'ok' means ask again. */
function* oom(ctx: Ctx, pid: number, g: Granted, context: string, vpn: number): Step<FlushResult> {
  const out = yield* outOfMemory(ctx, pid, g.failed ?? { kind: 'global' }, 1, context);
  const addr = vpn * PAGE_SIZE;
  switch (out) {
    case 'retry':
      return OK;
    case 'self-killed':
      return { status: 'stop', result: { ok: false, signal: 'SIGKILL', addr } };
    case 'wait':
      return { status: 'stop', result: { ok: false, blocked: 'oom-wait', addr } };
    case 'none':
      return { status: 'stop', result: { ok: false, blocked: 'oom-none', addr } };
    case 'panic':
      return { status: 'stop', result: { ok: false, blocked: 'panic', addr } };
  }
}

/** Emits the faults of one kind (vpns and pfns run-encoded); returns what they released. */
function emitRuns(ctx: Ctx, pid: number, mmId: number, how: FaultHow, write: boolean, vpnRuns: number[], pfnRuns: number[], major: number): Release | null {
  if (vpnRuns.length === 0) return null;
  return ctx.emit({ type: 'PagesFaulted', pid, mmId, how, write, vpns: vpnRuns, pfns: pfnRuns, majorFaults: major });
}

/** Appends [first, count] to run-encoded numbers, joining it to the last run when they meet. */
function pushRun(runs: number[], first: number, count: number): void {
  const k = runs.length;
  if (k >= 2 && runs[k - 2] + runs[k - 1] === first) runs[k - 1] += count;
  else runs.push(first, count);
}

export function toRuns(xs: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < xs.length) {
    const s = xs[i];
    let n = 1;
    while (i + n < xs.length && xs[i + n] === s + n) n++;
    out.push(s, n);
    i += n;
  }
  return out;
}

const IMMEDIATE: readonly [number, FaultHow][] = [
  [A_ZERO, 'zero'],
  [A_REUSE, 'reuse'],
  [A_REDIRTY, 'redirty'],
];

/** Carries out a batch: page tables, the faults that need no frame, then the frames request. */
function* flush(ctx: Ctx, pid: number, b: Batch): Step<FlushResult> {
  if (b.pages === 0) return OK;
  const res = yield* flushBatch(ctx, pid, b);
  b.clear();
  return res;
}

function* flushBatch(ctx: Ctx, pid: number, b: Batch): Step<FlushResult> {
  const t0 = yield* ensureTables(ctx, pid, b.entries);
  if (t0.status !== 'ok') return t0;
  const task = ctx.w.task(pid) as Task;
  const mmId = task.mmId;
  if (b.entries.some((e) => kindOf(actOf(e)) === K_NONE)) {
    for (const [act, how] of IMMEDIATE) {
      for (const write of [false, true]) {
        const vs: number[] = [];
        for (const e of b.entries) if (actOf(e) === act && writeOf(e) === write) pushRun(vs, e.vpn, e.count);
        // A write to a MADV_FREE'd page makes it dirty: frames puts it back on the anon list.
        const dirtied = act === A_REDIRTY ? presentPfns(ctx, mmId, vs) : [];
        emitRuns(ctx, pid, mmId, how, write, vs, [], 0);
        if (dirtied.length) yield* markLazyFree(dirtied, false);
      }
    }
  }
  switch (b.kind) {
    case K_NONE:
      return OK;
    case K_ALLOC:
      return yield* flushAlloc(ctx, pid, b);
    case K_FILE:
      return yield* flushFile(ctx, pid, b);
    case K_SWAP:
      return yield* flushSwap(ctx, pid, b);
    default:
      throw new Error(`fault: batch kind ${b.kind}`);
  }
}

/** The frames mapped at the vpns of run-encoded `vpns` in mm `mmId`. */
function presentPfns(ctx: Ctx, mmId: number, vpns: readonly number[]): number[] {
  const pt = ctx.w.pt(mmId);
  const out: number[] = [];
  if (!pt) return out;
  for (let r = 0; r < vpns.length; r += 2) {
    for (let vpn = vpns[r]; vpn < vpns[r] + vpns[r + 1]; vpn++) {
      const idx = pteIndex(vpn);
      const e = pt.table(idx)?.[vpn - idx * PTRS_PER_TABLE] ?? 0;
      if (isPresent(e)) out.push(ptePfn(e));
    }
  }
  return out;
}

/** New anonymous pages: first writes, COW copies (private file pages are read from the page cache first). */
function* flushAlloc(ctx: Ctx, pid: number, b: Batch): Step<FlushResult> {
  const items = b.entries.filter((e) => kindOf(actOf(e)) === K_ALLOC);
  const task = ctx.w.task(pid) as Task;
  const mm = ctx.w.mm(task.mmId) as Mm;
  // do_cow_fault(): the page-cache pages to copy from. (Nothing of the batch is mapped yet: a
  // failure restarts the whole batch once the OOM killer has run.)
  for (const e of items) {
    if (actOf(e) !== A_FILECOW) continue;
    const g = yield* getFilePages(e.aux2, e.aux, e.count, task.memcg, 'file', false, false);
    yield* evicted(ctx, g.evicted, task.memcg);
    if (g.pfns.length < e.count) {
      if (!g.failed) throw new Error('frames granted fewer file pages than asked without a failure');
      const out = yield* oom(ctx, pid, g, 'page-fault', e.vpn + g.pfns.length);
      if (out.status !== 'ok') return out;
      return { status: 'restart', vpn: items[0].vpn };
    }
  }
  const runs: OwnerRun[] = [];
  let last: { kind: 'anon'; owner: number; index: number; count: number } | null = null;
  let want = 0;
  for (const e of items) {
    want += e.count;
    if (last && last.index + last.count === e.aux) last.count += e.count;
    else {
      last = { kind: 'anon', owner: mm.anonRoot, index: e.aux, count: e.count };
      runs.push(last);
    }
  }
  const g = yield* allocUserPages(task.memcg, runs, lockedOf(items[0]));
  const n = Math.min(g.pfns.length, want);
  if (n < want && !g.failed) throw new Error('frames granted fewer pages than asked without a failure');
  const split = splitEvictions(g.evicted, 'anon', mm.anonRoot, grantedIndex(runs, g.pfns, n));
  yield* evicted(ctx, split.others, task.memcg);
  // Map the granted prefix: new pages and COW copies as two events.
  const rel = emptyRelease();
  for (const how of ['anon', 'cow'] as const) {
    const vs: number[] = [];
    const ps: number[] = [];
    let at = 0;
    for (const e of items) {
      if (at >= n) break;
      const c = Math.min(e.count, n - at);
      if ((how === 'anon') === (actOf(e) === A_ANON)) {
        pushRun(vs, e.vpn, c);
        for (let k = 0; k < c; k++) pushRun(ps, g.pfns[at + k], 1);
      }
      at += c;
    }
    mergeRelease(rel, emitRuns(ctx, pid, mm.id, how, true, vs, ps, 0));
  }
  // COW breaks drop a reference to the page they copied (or to its swap slot, if it was evicted meanwhile).
  yield* settle(ctx, rel, task.memcg);
  yield* evicted(ctx, split.own, task.memcg);
  if (n < want) {
    let at = 0;
    let vpn = items[0].vpn;
    for (const e of items) {
      if (at + e.count > n) {
        vpn = e.vpn + (n - at);
        break;
      }
      at += e.count;
    }
    const out = yield* oom(ctx, pid, g, 'page-fault', vpn);
    if (out.status !== 'ok') return out;
    return { status: 'restart', vpn };
  }
  return OK;
}

/** Page-cache pages: one frames request (GetFilePages) per run of consecutive pages of one file. */
function* flushFile(ctx: Ctx, pid: number, b: Batch): Step<FlushResult> {
  for (const e of b.entries) {
    const a = actOf(e);
    if (a !== A_FILE && a !== A_SHMEM) continue;
    const kind = a === A_SHMEM ? 'shmem' : 'file';
    const task = ctx.w.task(pid) as Task;
    const g = yield* getFilePages(e.aux2, e.aux, e.count, task.memcg, kind, lockedOf(e), false);
    const n = Math.min(g.pfns.length, e.count);
    if (n < e.count && !g.failed) throw new Error('frames granted fewer file pages than asked without a failure');
    const split = splitEvictions(g.evicted, kind, e.aux2, (index) => (index >= e.aux && index < e.aux + n ? g.pfns[index - e.aux] : -1));
    yield* evicted(ctx, split.others, task.memcg);
    if (n > 0) {
      emitRuns(ctx, pid, task.mmId, kind, writeOf(e), [e.vpn, n], toRuns(g.pfns.slice(0, n)), g.majorFaults);
      ctx.coalesceFaults();
    }
    yield* evicted(ctx, split.own, task.memcg);
    if (n < e.count) {
      const out = yield* oom(ctx, pid, g, 'page-fault', e.vpn + n);
      if (out.status !== 'ok') return out;
      return { status: 'restart', vpn: e.vpn + n };
    }
  }
  return OK;
}

/** Swap-ins: one frames request (SwapInPages) per stretch of entries with the same access (write, mlocked). */
function* flushSwap(ctx: Ctx, pid: number, b: Batch): Step<FlushResult> {
  const items = b.entries.filter((e) => actOf(e) === A_SWAPIN);
  for (let i = 0; i < items.length; ) {
    let j = i + 1;
    while (j < items.length && writeOf(items[j]) === writeOf(items[i]) && lockedOf(items[j]) === lockedOf(items[i])) j++;
    const group = items.slice(i, j);
    const entries: { slot: number; index: number; count: number }[] = [];
    for (const e of group) {
      const l = entries[entries.length - 1];
      if (l && l.slot + l.count === e.aux && l.index + l.count === e.aux2) l.count++;
      else entries.push({ slot: e.aux, index: e.aux2, count: 1 });
    }
    const task = ctx.w.task(pid) as Task;
    const mm = ctx.w.mm(task.mmId) as Mm;
    const g = yield* swapInPages(mm.anonRoot, entries as SwapRun[], task.memcg, writeOf(group[0]), lockedOf(group[0]));
    const n = Math.min(g.pfns.length, group.length);
    if (n < group.length && !g.failed) throw new Error('frames swapped in fewer pages than asked without a failure');
    let byIndex: Map<number, number> | null = null;
    const split = splitEvictions(g.evicted, 'anon', mm.anonRoot, (index) => {
      if (!byIndex) {
        byIndex = new Map();
        for (let k = 0; k < n; k++) byIndex.set(group[k].aux2, g.pfns[k]);
      }
      return byIndex.get(index) ?? -1;
    });
    yield* evicted(ctx, split.others, task.memcg);
    if (n > 0) {
      const vs: number[] = [];
      const ps: number[] = [];
      for (let k = 0; k < n; k++) {
        pushRun(vs, group[k].vpn, 1);
        pushRun(ps, g.pfns[k], 1);
      }
      emitRuns(ctx, pid, mm.id, 'swapin', writeOf(group[0]), vs, ps, g.majorFaults);
      ctx.coalesceFaults();
    }
    yield* evicted(ctx, split.own, task.memcg);
    if (n < group.length) {
      const out = yield* oom(ctx, pid, g, 'swap-in', group[n].vpn);
      if (out.status !== 'ok') return out;
      return { status: 'restart', vpn: group[n].vpn };
    }
    i = j;
  }
  return OK;
}

/** pfnOf(index) for an anonymous request: the pfn granted for linear index `index` (-1: not asked, or not granted). */
function grantedIndex(runs: readonly OwnerRun[], pfns: readonly number[], n: number): (index: number) => number {
  return (index) => {
    let at = 0;
    for (const r of runs) {
      if (at >= n) return -1;
      if (index >= r.index && index < r.index + r.count) {
        const k = at + (index - r.index);
        return k < n ? pfns[k] : -1;
      }
      at += r.count;
    }
    return -1;
  };
}
