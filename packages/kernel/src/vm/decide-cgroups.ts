// The cgroup v2 memory controller, vm's side: the tree by path, tasks moved between cgroups
// (cgroup.procs moves a whole thread group; charges stay where they were, as in v2), and the
// memory.* files. frames keeps the charges and enforces memory.max (SetMemcgLimit), memory.high
// (SetMemcgHigh: reclaim, never the OOM killer) and memory.swap.max (SetMemcgSwapMax: swap-outs
// over it fail, and reclaim leaves the anon pages of a memcg with no swap left alone, so
// memory.max pressure ends in the memcg OOM killer instead of swap); vm keeps the tree, the
// limits as written (the memcg OOM's totalpages reads memory.max + swap.max), memory.oom.group,
// and runs the OOM killer.
import { invalid, notFound, precondition, quota } from '../common/index.js';
import type { Ctx, Step } from './ctx.js';
import { setMemcgHigh, setMemcgLimit, setMemcgSwapMax } from './frames-port.js';
import { outOfMemory, subtree } from './oom-flow.js';
import { settle } from './settle.js';
import { threadGroup } from './task-exit.js';
import type { Cgroup } from './types.js';
import { mustTask } from './decide-tasks.js';
import { PAGE_SIZE } from './constants.js';

export const MAX_MEMCGS = 65535;

/** "/a/b/" -> "/a/b"; "" and "/" -> "/". */
export function normalizePath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid('vma.INVALID_ARGUMENT', `cgroup path must start with "/": ${String(path)}`);
  const parts = path.split('/').filter((p) => p.length > 0);
  for (const p of parts) if (p === '.' || p === '..') throw invalid('vma.INVALID_ARGUMENT', `cgroup path may not contain ${p}`);
  return '/' + parts.join('/');
}

export function cgroupByPath(ctx: Ctx, path: string): Cgroup {
  const p = normalizePath(path);
  const c = ctx.w.cgroups.values().find((x) => x.path === p);
  if (!c) throw notFound('vma.NO_SUCH_CGROUP', `no cgroup ${p}`);
  return c;
}

const parentPath = (p: string): string => (p.lastIndexOf('/') === 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

export function* decideCreateCgroup(ctx: Ctx, path: string): Step<number> {
  const p = normalizePath(path);
  if (p === '/' || ctx.w.cgroups.values().some((c) => c.path === p)) throw precondition('vma.CGROUP_EXISTS', `cgroup ${p} exists`);
  const parent = cgroupByPath(ctx, parentPath(p));
  const id = ctx.w.sc.nextMemcg;
  if (id > MAX_MEMCGS) throw quota('vma.TOO_MANY_CGROUPS', `more than ${MAX_MEMCGS} cgroups`);
  ctx.emit({ type: 'CgroupCreated', cgroup: { id, path: p, parent: parent.id, max: -1, high: -1, swapMax: -1, oomGroup: false, oom: 0, oomKill: 0, oomGroupKill: 0 } });
  yield* setMemcgLimit(id, null, parent.id);
  return id;
}

export function decideRemoveCgroup(ctx: Ctx, path: string): void {
  const c = cgroupByPath(ctx, path);
  if (c.id === 0) throw precondition('vma.CGROUP_BUSY', 'the root cgroup cannot be removed');
  if (ctx.w.cgroups.values().some((x) => x.parent === c.id)) throw precondition('vma.CGROUP_BUSY', `${c.path} has children`);
  if (ctx.w.tasks.values().some((t) => t.memcg === c.id && t.state === 'running')) throw precondition('vma.CGROUP_BUSY', `${c.path} has tasks`);
  ctx.emit({ type: 'CgroupRemoved', id: c.id });
}

function checkLimit(field: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < -1) throw invalid('vma.INVALID_ARGUMENT', `${field} must be bytes (an integer >= 0) or -1 for "max"`);
}

/**
 * Writes memory.max / memory.high / memory.swap.max / memory.oom.group (bytes, -1 = "max").
 * memory.max is passed to frames, which reclaims down to it; when reclaim cannot get there the
 * kernel's memory_max_write() runs the memcg OOM killer until it can. memory.swap.max is passed
 * to frames as it is.
 */
export function* decideSetCgroupLimit(ctx: Ctx, cmd: { path: string; max?: number; high?: number; swapMax?: number; oomGroup?: boolean }): Step<void> {
  const c = cgroupByPath(ctx, cmd.path);
  if (c.id === 0) throw precondition('vma.CGROUP_ROOT', 'the root cgroup has no memory.* limits');
  checkLimit('max', cmd.max);
  checkLimit('high', cmd.high);
  checkLimit('swapMax', cmd.swapMax);
  // page_counter_memparse(): bytes round down to pages.
  const round = (b: number): number => (b < 0 ? -1 : Math.floor(b / PAGE_SIZE) * PAGE_SIZE);
  const max = cmd.max !== undefined ? round(cmd.max) : c.max;
  const high = cmd.high !== undefined ? round(cmd.high) : c.high;
  const swapMax = cmd.swapMax !== undefined ? round(cmd.swapMax) : c.swapMax;
  ctx.emit({ type: 'CgroupLimitSet', id: c.id, max, high, swapMax, oomGroup: cmd.oomGroup ?? c.oomGroup });
  // swap_max_write(): the limit only; swap already charged above it stays until freed.
  if (cmd.swapMax !== undefined) yield* setMemcgSwapMax(c.id, swapMax < 0 ? null : swapMax / PAGE_SIZE);
  if (cmd.high !== undefined) {
    // memory_high_write(): reclaim down to the new value, without the OOM killer.
    const reply = yield* setMemcgHigh(c.id, high < 0 ? null : high / PAGE_SIZE);
    if (reply.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: reply.evicted }), c.id);
  }
  if (cmd.max === undefined) return;
  for (let round = 0; round < 16; round++) {
    const reply = yield* setMemcgLimit(c.id, max < 0 ? null : max / PAGE_SIZE, c.parent);
    if (reply.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: reply.evicted }), c.id);
    if (!reply.failed) return;
    // memory_max_write() runs the OOM killer of the cgroup on behalf of the writer; with no task
    // in it there is nothing to kill and the charge simply stays above the new limit.
    const inTree = new Set(subtree(ctx.w, c.id).map((x) => x.id));
    const member = ctx.w.tasks.values().find((t) => inTree.has(t.memcg) && t.state === 'running' && !t.isKthread);
    if (!member) return;
    const out = yield* outOfMemory(ctx, member.pid, reply.failed, 0, 'memory.max');
    if (out !== 'retry') return;
  }
}

export function decideMoveToCgroup(ctx: Ctx, pid: number, path: string): void {
  const t = mustTask(ctx, pid);
  const c = cgroupByPath(ctx, path);
  if (t.isKthread) throw precondition('vma.UNMOVABLE', 'kernel threads stay in the root cgroup');
  for (const x of threadGroup(ctx, pid)) ctx.emit({ type: 'TaskMoved', pid: x.pid, memcg: c.id });
}
