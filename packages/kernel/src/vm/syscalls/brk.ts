// mm/mmap.c SYSCALL_DEFINE1(brk): the new break, or the old one when the kernel refuses.
import { PAGE_SIZE, STACK_GUARD_GAP, TASK_SIZE, VM_GROWSDOWN } from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { chargeOk, mayExpandVm } from '../charge.js';
import { ANON_RW_FLAGS } from '../layout.js';
import { settle } from '../settle.js';
import type { Mm, Task } from '../types.js';
import { findVmaIndex, overlapping } from '../vma-list.js';
import { MAX_MAP_COUNT } from '../constants.js';

const pageAlign = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

export function* sysBrk(ctx: Ctx, task: Task, mm: Mm, brk: number): Step<number> {
  const origbrk = mm.brk;
  if (brk < mm.startBrk) return origbrk;
  // check_data_rlimit(): the heap plus the data segment within RLIMIT_DATA.
  if (brk - mm.startBrk + (mm.endData - mm.startData) > task.rlimits.data) return origbrk;
  const newbrk = pageAlign(brk);
  const oldbrk = pageAlign(mm.brk);
  if (oldbrk === newbrk) {
    ctx.emit({ type: 'BrkMoved', pid: task.pid, mmId: mm.id, oldBrk: mm.brk, newBrk: brk, chargedPages: 0 });
    return brk;
  }
  if (brk <= mm.brk) {
    // Always allow shrinking, if the pages above the new break are the heap's.
    const [a, b] = overlapping(mm.vmas, newbrk, oldbrk);
    if (a === b) return origbrk;
    yield* settle(ctx, ctx.emit({ type: 'BrkMoved', pid: task.pid, mmId: mm.id, oldBrk: mm.brk, newBrk: brk, chargedPages: 0 }), task.memcg);
    return brk;
  }
  const len = newbrk - oldbrk;
  // check_brk_limits(): get_unmapped_area(MAP_FIXED) only fails past TASK_SIZE.
  if (oldbrk + len > TASK_SIZE) return origbrk;
  // The next VMA (with its stack guard gap) must stay a page above the new break.
  const i = findVmaIndex(mm.vmas, oldbrk);
  if (i >= 0) {
    const next = mm.vmas[i];
    const startGap = next.flags & VM_GROWSDOWN ? next.start - STACK_GUARD_GAP : next.start;
    if (next.start < newbrk + PAGE_SIZE + STACK_GUARD_GAP && newbrk + PAGE_SIZE > startGap) return origbrk;
  }
  // do_brk_flags(): RLIMIT_AS / RLIMIT_DATA, the VMA count, overcommit.
  const pages = len / PAGE_SIZE;
  if (!mayExpandVm(task, mm, ANON_RW_FLAGS, pages)) return origbrk;
  if (mm.vmas.length > MAX_MAP_COUNT) return origbrk;
  if (!(yield* chargeOk(ctx, task, mm, pages))) return origbrk;
  ctx.emit({ type: 'BrkMoved', pid: task.pid, mmId: mm.id, oldBrk: mm.brk, newBrk: brk, chargedPages: pages });
  return brk;
}
