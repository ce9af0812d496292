// The memory system calls of a process: dispatch, argument normalization, and the
// SyscallReturned event that records the call and the kernel's answer.
import { invalid } from '../../common/index.js';
import { SYSCALL_KILLED } from '../../contracts/heap-sys.js';
import type { Ctx, Step } from '../ctx.js';
import type { Mm, Task, VmSyscall } from '../types.js';
import { sysBrk } from './brk.js';
import { sysMadvise } from './madvise.js';
import { sysMlock } from './mlock.js';
import { sysMmap } from './mmap.js';
import { sysMprotect } from './mprotect.js';
import { sysMremap } from './mremap.js';
import { sysMunmap } from './munmap.js';

/**
 * C's view of an argument: the kernel takes unsigned longs, so a negative number is a huge one
 * (2^64 + x). Values that are not integers, or that do not fit in 64 bits, cannot be passed to a
 * system call at all: those are bad calls (a Rejection), not errors the kernel returns.
 */
export function ulong(field: string, x: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || Math.abs(x) >= 2 ** 64) {
    throw invalid('vma.INVALID_ARGUMENT', `${field} must be an integer that fits in 64 bits, got ${String(x)}`);
  }
  return x < 0 ? 2 ** 64 + x : x;
}

/** Arguments as the kernel sees them (rejects what cannot be passed). */
export function normalizeSyscall(call: VmSyscall): VmSyscall {
  switch (call.nr) {
    case 'brk':
      return { nr: 'brk', addr: ulong('addr', call.addr) };
    case 'mmap':
      return {
        nr: 'mmap',
        addr: ulong('addr', call.addr),
        length: ulong('length', call.length),
        prot: ulong('prot', call.prot),
        flags: ulong('flags', call.flags),
        fd: 'fd' in call ? call.fd : -1,
        offset: 'offset' in call ? ulong('offset', call.offset) : 0,
      };
    case 'munmap':
      return { nr: 'munmap', addr: ulong('addr', call.addr), length: ulong('length', call.length) };
    case 'mremap':
      return {
        nr: 'mremap',
        oldAddr: ulong('oldAddr', call.oldAddr),
        oldSize: ulong('oldSize', call.oldSize),
        newSize: ulong('newSize', call.newSize),
        flags: ulong('flags', call.flags),
        newAddr: 'newAddr' in call ? ulong('newAddr', call.newAddr) : 0,
      };
    case 'mprotect':
      return { nr: 'mprotect', addr: ulong('addr', call.addr), length: ulong('length', call.length), prot: ulong('prot', call.prot) };
    case 'madvise':
      return { nr: 'madvise', addr: ulong('addr', call.addr), length: ulong('length', call.length), advice: ulong('advice', call.advice) };
    case 'mlock':
    case 'munlock':
      return { nr: call.nr, addr: ulong('addr', call.addr), length: ulong('length', call.length) };
    default:
      throw invalid('vma.INVALID_ARGUMENT', `unknown system call ${JSON.stringify((call as { nr?: unknown }).nr)}`);
  }
}

function* dispatch(ctx: Ctx, task: Task, mm: Mm, call: VmSyscall): Step<number> {
  switch (call.nr) {
    case 'brk':
      return yield* sysBrk(ctx, task, mm, call.addr);
    case 'mmap':
      return yield* sysMmap(ctx, task, mm, {
        addr: call.addr,
        length: call.length,
        prot: call.prot,
        flags: call.flags,
        fd: 'fd' in call ? call.fd : -1,
        offset: 'offset' in call ? call.offset : 0,
      });
    case 'munmap':
      return yield* sysMunmap(ctx, task, mm, call.addr, call.length);
    case 'mprotect':
      return yield* sysMprotect(ctx, task, mm, call.addr, call.length, call.prot);
    case 'mremap':
      return yield* sysMremap(ctx, task, mm, {
        oldAddr: call.oldAddr,
        oldSize: call.oldSize,
        newSize: call.newSize,
        flags: call.flags,
        newAddr: 'newAddr' in call ? call.newAddr : 0,
      });
    case 'madvise':
      return yield* sysMadvise(ctx, task, mm, call.addr, call.length, call.advice);
    case 'mlock':
      return yield* sysMlock(ctx, task, mm, call.addr, call.length, true);
    case 'munlock':
      return yield* sysMlock(ctx, task, mm, call.addr, call.length, false);
  }
}

/** Runs the call for `task` and records it; the result is what the process sees. */
export function* decideSyscall(ctx: Ctx, task: Task, mm: Mm, call: VmSyscall): Step<number> {
  let result = yield* dispatch(ctx, task, mm, call);
  const after = ctx.w.task(task.pid);
  if (!after || after.state !== 'running' || after.killPending) result = SYSCALL_KILLED;
  ctx.emit({ type: 'SyscallReturned', pid: task.pid, call, result });
  return result;
}
