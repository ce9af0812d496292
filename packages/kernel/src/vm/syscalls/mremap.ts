// mm/mremap.c: shrink (munmap the tail), grow in place when the next VMA leaves room, or move
// (MREMAP_MAYMOVE: a new place from get_unmapped_area, the PTEs moved with the VMA). An address
// or -errno.
import { EINVAL, ENOMEM, MREMAP_MAYMOVE } from '../../contracts/heap-sys.js';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, PAGE_SIZE, PTRS_PER_TABLE, TASK_SIZE, VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_MAYSHARE, VM_PFNMAP } from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { chargeOk, mayExpandVm } from '../charge.js';
import { faultIn } from '../fault.js';
import { allocPageTables } from '../frames-port.js';
import { forEachTable, missingTables } from '../mm-ops.js';
import { settle } from '../settle.js';
import { spanOf } from '../spans.js';
import type { Mm, Task } from '../types.js';
import { getUnmappedArea } from '../unmapped-area.js';
import { overlapping, vmaAt } from '../vma-list.js';
import { EAGAIN_, EFAULT_, KILLED } from './errno.js';
import { lockLimitOk } from './mlock.js';

export interface MremapArgs {
  readonly oldAddr: number;
  readonly oldSize: number;
  readonly newSize: number;
  readonly flags: number;
  readonly newAddr: number;
}

const pageAlign = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

export function* sysMremap(ctx: Ctx, task: Task, mm: Mm, a: MremapArgs): Step<number> {
  if (a.flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (a.flags & MREMAP_FIXED && !(a.flags & MREMAP_MAYMOVE)) return -EINVAL;
  // MREMAP_DONTUNMAP is not modelled.
  if (a.flags & MREMAP_DONTUNMAP) return -EINVAL;
  const addr = a.oldAddr;
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  const oldLen = pageAlign(a.oldSize);
  const newLen = pageAlign(a.newSize);
  if (newLen === 0) return -EINVAL;
  const vma = vmaAt(mm.vmas, addr);
  if (!vma) return -EFAULT_;
  // old_len 0 duplicates a shared mapping; not modelled (private mappings refuse it too).
  if (oldLen === 0) return -EINVAL;
  if (oldLen > vma.end - addr) return -EFAULT_;

  if (a.flags & MREMAP_FIXED) return yield* remapTo(ctx, task, mm, a, oldLen, newLen);
  if (newLen === oldLen) return addr;
  if (newLen < oldLen) {
    yield* settle(ctx, ctx.emit({ type: 'VmaUnmapped', pid: task.pid, mmId: mm.id, start: addr + newLen, end: addr + oldLen }), task.memcg);
    return addr;
  }
  if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT_;
  const delta = (newLen - oldLen) / PAGE_SIZE;
  if (vma.flags & VM_LOCKED && !lockLimitOk(task, mm, delta)) return -EAGAIN_;
  if (!mayExpandVm(task, mm, vma.flags, delta)) return -ENOMEM;
  const charge = vma.flags & VM_ACCOUNT ? delta : 0;
  // Grow in place: the range ends the VMA and nothing is mapped after it up to the new end.
  if (oldLen === vma.end - addr && addr + newLen <= TASK_SIZE) {
    const [x, y] = overlapping(mm.vmas, vma.end, addr + newLen);
    if (x === y) {
      if (!(yield* chargeOk(ctx, task, mm, charge))) return -ENOMEM;
      ctx.emit({ type: 'VmaRemapped', pid: task.pid, mmId: mm.id, oldStart: addr, oldEnd: addr + oldLen, newStart: addr, newEnd: addr + newLen, chargedPages: charge });
      if (vma.flags & VM_LOCKED) {
        const r = yield* faultIn(ctx, task.pid, spanOf(addr + oldLen, addr + newLen, false), { context: 'mremap', populate: true });
        if (!r.ok && 'signal' in r) return KILLED;
      }
      return addr;
    }
  }
  if (!(a.flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const anonPrivate = vma.kind === 'anon' && !(vma.flags & VM_MAYSHARE);
  const dest = getUnmappedArea(mm, 0, newLen, anonPrivate);
  if (dest < 0) return dest;
  if (!(yield* chargeOk(ctx, task, mm, charge))) return -ENOMEM;
  return yield* moveVma(ctx, task, mm, addr, oldLen, dest, newLen, charge);
}

/** MREMAP_FIXED: the destination is given; whatever is mapped there goes first. */
function* remapTo(ctx: Ctx, task: Task, mm: Mm, a: MremapArgs, oldLen: number, newLen: number): Step<number> {
  const dest = a.newAddr;
  if (dest % PAGE_SIZE !== 0 || dest > TASK_SIZE - newLen) return -EINVAL;
  // The ranges may not overlap.
  if (dest + newLen > a.oldAddr && dest < a.oldAddr + oldLen) return -EINVAL;
  const vma = vmaAt(mm.vmas, a.oldAddr);
  if (!vma) return -EFAULT_;
  let len = oldLen;
  if (newLen < oldLen) {
    yield* settle(ctx, ctx.emit({ type: 'VmaUnmapped', pid: task.pid, mmId: mm.id, start: a.oldAddr + newLen, end: a.oldAddr + oldLen }), task.memcg);
    len = newLen;
  }
  const delta = Math.max(0, (newLen - len) / PAGE_SIZE);
  if (!mayExpandVm(task, ctx.w.mm(mm.id) as Mm, vma.flags, delta)) return -ENOMEM;
  const charge = vma.flags & VM_ACCOUNT ? delta : 0;
  if (!(yield* chargeOk(ctx, task, mm, charge))) return -ENOMEM;
  const [x, y] = overlapping((ctx.w.mm(mm.id) as Mm).vmas, dest, dest + newLen);
  if (x !== y) yield* settle(ctx, ctx.emit({ type: 'VmaUnmapped', pid: task.pid, mmId: mm.id, start: dest, end: dest + newLen }), task.memcg);
  return yield* moveVma(ctx, task, ctx.w.mm(mm.id) as Mm, a.oldAddr, len, dest, newLen, charge);
}

/** move_vma(): page tables at the destination, then the VMA and its PTEs move; the old tables go. */
function* moveVma(ctx: Ctx, task: Task, mm: Mm, addr: number, oldLen: number, dest: number, newLen: number, charge: number): Step<number> {
  const pt = ctx.w.pt(mm.id);
  const moved: number[] = [];
  if (pt) {
    const shift = (dest - addr) / PAGE_SIZE;
    forEachTable(pt, addr / PAGE_SIZE, (addr + oldLen) / PAGE_SIZE, (idx, lo, hi) => {
      const t = pt.table(idx) as Int32Array;
      for (let i = lo; i < hi; i++) if (t[i] !== 0) moved.push(idx * PTRS_PER_TABLE + i + shift);
    });
  }
  const keys = missingTables(pt, moved);
  if (keys.length) {
    const g = yield* allocPageTables(task.memcg, keys.length);
    if (g.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: g.evicted }), task.memcg);
    // move_page_tables() failing halfway is undone by the kernel; here the call fails before moving.
    if (g.failed) return -ENOMEM;
    ctx.emit({ type: 'PageTablesAllocated', mmId: mm.id, keys, pfns: keys.map((_, i) => g.pfns[i] ?? 0) });
  }
  const vma = vmaAt((ctx.w.mm(mm.id) as Mm).vmas, addr);
  yield* settle(
    ctx,
    ctx.emit({ type: 'VmaRemapped', pid: task.pid, mmId: mm.id, oldStart: addr, oldEnd: addr + oldLen, newStart: dest, newEnd: dest + newLen, chargedPages: charge }),
    task.memcg,
  );
  if (vma && vma.flags & VM_LOCKED && newLen > oldLen) {
    const r = yield* faultIn(ctx, task.pid, spanOf(dest + oldLen, dest + newLen, false), { context: 'mremap', populate: true });
    if (!r.ok && 'signal' in r) return KILLED;
  }
  return dest;
}
