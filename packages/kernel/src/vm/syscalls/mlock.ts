// mm/mlock.c do_mlock() / munlock(): VM_LOCKED over a fully mapped range, RLIMIT_MEMLOCK, then
// the range is faulted in (mm_populate) and its pages go to the unevictable list.
import { ENOMEM } from '../../contracts/heap-sys.js';
import { PAGE_SIZE, VM_LOCKED } from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { faultIn } from '../fault.js';
import { mlockPages } from '../frames-port.js';
import { forEachTable } from '../mm-ops.js';
import { isPresent, ptePfn } from '../page-table.js';
import { spanOf } from '../spans.js';
import type { Mm, Task } from '../types.js';
import { overlapping, vmaAt } from '../vma-list.js';
import { KILLED } from './errno.js';

/** mlock_future_ok() / the do_mlock() limit: locked_vm + pages within RLIMIT_MEMLOCK unless CAP_IPC_LOCK. */
export function lockLimitOk(task: Task, mm: Mm, pages: number): boolean {
  if (task.caps.ipcLock) return true;
  return mm.lockedVm + pages <= Math.floor(task.rlimits.memlock / PAGE_SIZE);
}

function lockedIn(mm: Mm, start: number, end: number): number {
  let n = 0;
  const [a, b] = overlapping(mm.vmas, start, end);
  for (let i = a; i < b; i++) {
    const v = mm.vmas[i];
    if (v.flags & VM_LOCKED) n += (Math.min(end, v.end) - Math.max(start, v.start)) / PAGE_SIZE;
  }
  return n;
}

function presentPfns(ctx: Ctx, mm: Mm, start: number, end: number): number[] {
  const pt = ctx.w.pt(mm.id);
  const out: number[] = [];
  if (!pt) return out;
  forEachTable(pt, start / PAGE_SIZE, end / PAGE_SIZE, (idx, lo, hi) => {
    const t = pt.table(idx) as Int32Array;
    for (let i = lo; i < hi; i++) if (isPresent(t[i])) out.push(ptePfn(t[i]));
  });
  return out;
}

/** The VMAs of [start, end) must be contiguous from start: the covered end, and whether a hole stopped it. */
function coveredEnd(mm: Mm, start: number, end: number): [number, boolean] {
  let at = start;
  while (at < end) {
    const v = vmaAt(mm.vmas, at);
    if (!v) return [at, true];
    at = Math.min(v.end, end);
  }
  return [at, false];
}

export function* sysMlock(ctx: Ctx, task: Task, mm: Mm, addr: number, length: number, lock: boolean): Step<number> {
  const start = addr - (addr % PAGE_SIZE);
  const end = start + Math.ceil((length + (addr % PAGE_SIZE)) / PAGE_SIZE) * PAGE_SIZE;
  if (end === start) return 0;
  if (lock) {
    const pages = (end - start) / PAGE_SIZE - lockedIn(mm, start, end);
    if (!lockLimitOk(task, mm, pages)) return -ENOMEM;
  }
  if (!vmaAt(mm.vmas, start)) return -ENOMEM;
  const [upTo, hole] = coveredEnd(mm, start, end);
  const before = presentPfns(ctx, mm, start, upTo);
  ctx.emit({ type: 'VmaLocked', pid: task.pid, mmId: mm.id, start, end: upTo, locked: lock });
  if (before.length) yield* mlockPages(before, lock);
  if (lock && !hole) {
    const r = yield* faultIn(ctx, task.pid, spanOf(start, upTo, false), { context: 'mlock', populate: true });
    if (!r.ok && 'signal' in r) return KILLED;
  }
  return hole ? -ENOMEM : 0;
}
