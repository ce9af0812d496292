// mm/mmap.c do_mmap() + mm/vma.c mmap_region(): an address or -errno.
import { EBADF_ } from './errno.js';
import { EINVAL, ENOMEM, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED } from '../../contracts/heap-sys.js';
import {
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  MAX_MAP_COUNT,
  MMAP_MIN_ADDR,
  PAGE_SIZE,
  SHMEM_DEV,
  TASK_SIZE,
  VM_ACCOUNT,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_SHARED,
} from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { chargeOk, mayExpandVm } from '../charge.js';
import { faultIn } from '../fault.js';
import { settle } from '../settle.js';
import { spanOf } from '../spans.js';
import type { FileInfo, Mm, Task, Vma } from '../types.js';
import { getUnmappedArea } from '../unmapped-area.js';
import { accountedPages, mappedPages, overlapping } from '../vma-list.js';
import { protToFlags } from '../vma-ops.js';
import { lockLimitOk } from './mlock.js';
import { KILLED } from './errno.js';

export interface MmapArgs {
  readonly addr: number;
  readonly length: number;
  readonly prot: number;
  readonly flags: number;
  readonly fd: number;
  readonly offset: number;
}

const pageAlign = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
const EEXIST = 17;
const EOVERFLOW = 75;

export function* sysMmap(ctx: Ctx, task: Task, mm: Mm, a: MmapArgs): Step<number> {
  if (a.offset % PAGE_SIZE !== 0 || a.offset < 0) return -EINVAL;
  const anonymous = (a.flags & MAP_ANONYMOUS) !== 0;
  let file: FileInfo | undefined;
  if (!anonymous) {
    file = ctx.w.files.get(a.fd);
    if (!file || file.shmem) return -EBADF_;
  }
  if (a.length === 0) return -EINVAL;
  let flags = a.flags;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  let hint = a.addr;
  if (!(flags & MAP_FIXED)) {
    // round_hint_to_min()
    hint -= hint % PAGE_SIZE;
    if (hint && hint < MMAP_MIN_ADDR) hint = pageAlign(MMAP_MIN_ADDR);
  }
  const len = pageAlign(a.length);
  if (len === 0 || len > TASK_SIZE) return -ENOMEM;
  const pgoffFile = anonymous ? 0 : a.offset / PAGE_SIZE;
  if (pgoffFile + len / PAGE_SIZE < pgoffFile) return -EOVERFLOW;
  if (mm.vmas.length > MAX_MAP_COUNT) return -ENOMEM;
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -EINVAL;
  const shared = type !== MAP_PRIVATE;
  if (shared && anonymous && flags & MAP_GROWSDOWN) return -EINVAL;

  // get_unmapped_area()
  let addr: number;
  if (flags & MAP_FIXED) {
    if (hint % PAGE_SIZE !== 0) return -EINVAL;
    if (hint > TASK_SIZE - len) return -ENOMEM;
    addr = hint;
  } else {
    addr = getUnmappedArea(mm, hint, len, anonymous && !shared);
    if (addr < 0) return addr;
  }
  if (a.flags & MAP_FIXED_NOREPLACE) {
    const [x, y] = overlapping(mm.vmas, addr, addr + len);
    if (x !== y) return -EEXIST;
  }

  let vmFlags = protToFlags(a.prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (shared) vmFlags |= VM_SHARED | VM_MAYSHARE;
  if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  if (flags & MAP_LOCKED) {
    vmFlags |= VM_LOCKED;
    if (!lockLimitOk(task, mm, len / PAGE_SIZE)) return -11; // -EAGAIN
  }
  // MAP_NORESERVE is honoured unless overcommit is strict.
  if (flags & MAP_NORESERVE && ctx.w.sc.sysctl.overcommit_memory !== 2) vmFlags |= VM_NORESERVE;

  // mmap_region(): limits against what the mapping adds beyond what it replaces.
  const pages = len / PAGE_SIZE;
  const replaced = flags & MAP_FIXED ? mappedPages(mm.vmas, addr, addr + len) : 0;
  if (!mayExpandVm(task, mm, vmFlags, pages - replaced)) return -ENOMEM;
  let charged = 0;
  if ((vmFlags & (VM_NORESERVE | VM_SHARED)) === 0 && vmFlags & 2) {
    // The charge of the accounted pages it replaces carries over (vms.nr_accounted = 0): only the
    // difference is checked. Here the unmap gives them back and the new VMA charges all its pages.
    const nrAccounted = flags & MAP_FIXED ? accountedPages(mm.vmas, addr, addr + len) : 0;
    if (!(yield* chargeOk(ctx, task, mm, pages - nrAccounted))) return -ENOMEM;
    charged = pages;
    vmFlags |= VM_ACCOUNT;
  }
  // Shared anonymous memory is a shmem object, charged by shmem_acct_size() unless VM_NORESERVE.
  let shmem: FileInfo | null = null;
  if (anonymous && shared) {
    const shmemCharge = vmFlags & VM_NORESERVE ? 0 : pages;
    if (!(yield* chargeOk(ctx, task, mm, shmemCharge))) return -ENOMEM;
    shmem = {
      id: ctx.w.sc.nextFileId,
      path: '/dev/zero (deleted)',
      inode: ctx.w.sc.nextInode,
      dev: SHMEM_DEV,
      sizeBytes: len,
      shmem: true,
      chargedPages: shmemCharge,
    };
    charged += shmemCharge;
  }
  if (flags & MAP_FIXED) {
    const [x, y] = overlapping(mm.vmas, addr, addr + len);
    if (x !== y) yield* settle(ctx, ctx.emit({ type: 'VmaUnmapped', pid: task.pid, mmId: mm.id, start: addr, end: addr + len }), task.memcg);
  }
  const vma: Vma = {
    start: addr,
    end: addr + len,
    flags: vmFlags,
    pgoff: anonymous ? (shared ? 0 : addr / PAGE_SIZE) : pgoffFile,
    kind: shmem ? 'shmem' : anonymous ? 'anon' : 'file',
    file: shmem ? shmem.id : file ? file.id : 0,
    name: '',
    anon: false,
  };
  ctx.emit({ type: 'VmaMapped', pid: task.pid, mmId: mm.id, vma, chargedPages: charged, shmem });
  // MAP_POPULATE / MAP_LOCKED: mm_populate() faults the range in now.
  if (flags & MAP_POPULATE || vmFlags & VM_LOCKED) {
    const r = yield* faultIn(ctx, task.pid, spanOf(addr, addr + len, false), { context: 'mmap-populate', populate: true });
    if (!r.ok && 'signal' in r) return KILLED;
  }
  return addr;
}
