// The checks every mapping that grows an address space goes through: may_expand_vm()
// (RLIMIT_AS, RLIMIT_DATA) and security_vm_enough_memory_mm() (overcommit).
import type { Ctx, Step } from './ctx.js';
import { PAGE_SIZE } from './constants.js';
import { getTotals } from './frames-port.js';
import { needsLiveTotals, vmEnoughMemory } from './overcommit.js';
import type { Mm, Task } from './types.js';
import { isDataMapping } from './vma-list.js';

const pagesOf = (bytes: number): number => Math.floor(bytes / PAGE_SIZE);

/** mm/mmap.c may_expand_vm(): RLIMIT_AS on total_vm, RLIMIT_DATA on private writable mappings. */
export function mayExpandVm(task: Task, mm: Mm, flags: number, npages: number): boolean {
  if (mm.totalVm + npages > pagesOf(task.rlimits.as)) return false;
  if (isDataMapping(flags) && mm.dataVm + npages > pagesOf(task.rlimits.data)) return false;
  return true;
}

/** __vm_enough_memory() for `pages` more on behalf of task (mm: its address space, for the user reserve). */
export function* chargeOk(ctx: Ctx, task: Task, mm: Mm | null, pages: number): Step<boolean> {
  if (pages <= 0) return true;
  const m = ctx.w.machine;
  if (!m) throw new Error('vm: no machine');
  const sysctl = ctx.w.sc.sysctl;
  const live = needsLiveTotals(m.profile, sysctl) ? yield* getTotals() : undefined;
  return vmEnoughMemory({
    profile: m.profile,
    sysctl,
    totals: m.totals,
    adminReserveKbytes: ctx.w.sc.adminReserveKbytes,
    userReserveKbytes: ctx.w.sc.userReserveKbytes,
    committed: ctx.w.sc.committed,
    totalVm: mm ? mm.totalVm : null,
    pages,
    capSysAdmin: task.caps.sysAdmin,
    live,
  });
}
