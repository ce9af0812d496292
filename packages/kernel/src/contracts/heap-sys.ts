// heap -> vma: the system calls and memory accesses of a process's user-space allocator.
//
// The allocator model calls these synchronously, as glibc calls the kernel. Who answers
// depends on where the model runs:
//  - in-process trace replay and benches: a local address space (heap/testing or vm) answers;
//  - the heap aggregate's decide(): answers carried in the command, else Need('vma', ...) is
//    thrown, the state is rolled back, the service asks vma over the bus, and the call runs
//    again with one more answer (docs/architecture.md, "A malloc that needs the kernel").
//  - replay (evolve): the answers recorded in the event.
// Stores and loads are not system calls: the heap service collects them and sends them to vma
// (which faults pages in) before the next system call and at the end of the call.

export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;

export const MREMAP_MAYMOVE = 1;

export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;

export const ENOMEM = 12;
export const EINVAL = 22;
export const EFAULT = 14;
export const EAGAIN = 11;
export const EPERM = 1;
export const ESRCH = 3;

/** One system call as the allocator made it, with the kernel's answer. */
export type Syscall =
  | { readonly nr: 'brk'; readonly addr: number }
  | { readonly nr: 'mmap'; readonly addr: number; readonly length: number; readonly prot: number; readonly flags: number }
  | { readonly nr: 'munmap'; readonly addr: number; readonly length: number }
  | { readonly nr: 'mremap'; readonly oldAddr: number; readonly oldSize: number; readonly newSize: number; readonly flags: number }
  | { readonly nr: 'mprotect'; readonly addr: number; readonly length: number; readonly prot: number }
  | { readonly nr: 'madvise'; readonly addr: number; readonly length: number; readonly advice: number };

/** The kernel's return value: an address or 0 on success, -errno on failure (brk returns the break). */
export type SyscallResult = number;

export interface SyscallRecord {
  readonly call: Syscall;
  readonly result: SyscallResult;
}

export interface HeapSys {
  /** brk(2) as the kernel implements it: the new break on success, the unchanged break on failure; brk(0) reads it. */
  brk(addr: number): number;
  /** mmap(2): the address, or -errno. glibc maps anonymous memory only. */
  mmap(addr: number, length: number, prot: number, flags: number): number;
  munmap(addr: number, length: number): number;
  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number): number;
  mprotect(addr: number, length: number, prot: number): number;
  madvise(addr: number, length: number, advice: number): number;
  /** The allocator or the program stored `length` bytes at `addr`. */
  write(addr: number, length: number): void;
  /** The allocator or the program loaded `length` bytes at `addr` (a never-written anonymous page maps the zero page). */
  read(addr: number, length: number): void;
}

// ---------------------------------------------------------------------------------------------
// The commands the heap sends to vma (added by the vm engineer). A Need('vma', ...) carries one
// of these; vma's answer() gives back the reply named on each.

/** [addr, addr + length) in the process's address space. */
export interface AddrRange {
  readonly addr: number;
  readonly length: number;
}

/** One system call of process `pid`. Reply: SyscallResult (an address, 0, the break, or -errno). */
export interface SyscallRequest {
  readonly type: 'Syscall';
  readonly pid: number;
  readonly call: Syscall;
}

/**
 * Loads and stores of process `pid` since the last request: vma faults in what they need, in
 * address order (a page both read and written counts as written). Reply: TouchResult.
 */
export interface TouchRequest {
  readonly type: 'Touch';
  readonly pid: number;
  readonly writes: readonly AddrRange[];
  readonly reads: readonly AddrRange[];
}

/**
 * ok: every page is mapped. Otherwise the process got a signal and is gone: SIGKILL (the OOM
 * killer chose it, or it shared an mm with the victim) or SIGSEGV (an address with no mapping,
 * or a store to a mapping without PROT_WRITE). `blocked`: an OOM could not be resolved now
 * ('oom-wait': an earlier victim has not exited yet; 'oom-none': nothing killable in the memcg);
 * the pages before `addr` were mapped and the process is still alive: retry later. 'panic':
 * panic_on_oom stopped the machine.
 */
export type TouchResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly signal: 'SIGKILL' | 'SIGSEGV'; readonly addr: number }
  | { readonly ok: false; readonly blocked: 'oom-wait' | 'oom-none' | 'panic'; readonly addr: number };

export type VmaRequest = SyscallRequest | TouchRequest;

/**
 * The reply to a system call during which the process was killed (an OOM kill while MAP_POPULATE
 * or mlock faulted pages in): it never returns to user space. Just outside the errno range.
 */
export const SYSCALL_KILLED = -4096;
