// mm/mprotect.c do_mprotect_pkey(): VMA by VMA from start; a hole stops it with -ENOMEM after
// the VMAs before it were changed, as the kernel does.
import { EINVAL, ENOMEM } from '../../contracts/heap-sys.js';
import { PAGE_SIZE, VM_ACCOUNT, VM_NORESERVE, VM_SHARED, VM_WRITE } from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { chargeOk, mayExpandVm } from '../charge.js';
import type { Mm, Task } from '../types.js';
import { vmaAt, vmaPages } from '../vma-list.js';
import { protToFlags } from '../vma-ops.js';
import { EACCES } from './errno.js';

const PROT_ALLOWED = 0x1 | 0x2 | 0x4 | 0x8 | 0x01000000 | 0x02000000;

export function* sysMprotect(ctx: Ctx, task: Task, mm0: Mm, start: number, length: number, prot: number): Step<number> {
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  if (length === 0) return 0;
  const end = start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
  if (end <= start) return -ENOMEM;
  if (prot & ~PROT_ALLOWED) return -EINVAL;
  const want = protToFlags(prot);
  let nstart = start;
  let mm = mm0;
  if (!vmaAt(mm.vmas, start)) return -ENOMEM;
  while (nstart < end) {
    const v = vmaAt(mm.vmas, nstart);
    if (!v) return -ENOMEM;
    // The new protection must be within VM_MAY* (e.g. the vdso cannot be made writable).
    if (want & ~(v.flags >> 4) & 0x7) return -EACCES;
    const tmp = Math.min(v.end, end);
    const piece = { ...v, start: nstart, end: tmp };
    const n = vmaPages(piece);
    let charge = 0;
    if (want & VM_WRITE) {
      const newFlags = (v.flags & ~0x7) | want;
      if (!mayExpandVm(task, mm, newFlags, n) && mayExpandVm(task, mm, v.flags, n)) return -ENOMEM;
      if ((v.flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) charge = n;
      if (!(yield* chargeOk(ctx, task, mm, charge))) return -ENOMEM;
    }
    ctx.emit({ type: 'VmaProtected', pid: task.pid, mmId: mm.id, start: nstart, end: tmp, prot, chargedPages: charge });
    mm = ctx.w.mm(mm.id) as Mm;
    nstart = tmp;
  }
  return 0;
}
