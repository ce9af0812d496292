// The heap aggregate's commands and events: plain data (numbers, strings, arrays, objects of
// those), so they map one-to-one onto protobuf messages. Addresses and sizes are numbers: user
// addresses lie below 2^47 and sizes below 2^53.
//
// A call command carries `answers`: what vma answered to the requests decide() made so far,
// in order (see docs/architecture.md, "A malloc that needs the kernel"). decide() runs the
// call and, at the first request without an answer, throws Need('vma', request, index) with a
// VmaRequest: a Touch (the loads and stores since the last request, before each system call
// and at the end of the call) or a Syscall. The event records every request with its answer,
// so evolve() re-runs the call without asking.
import type { AddrRange, Syscall, SyscallResult, TouchResult } from '../../contracts/heap-sys.js';

/** What vma answered: a system call's result, or the outcome of a Touch. */
export type SyscallAnswer = SyscallResult | TouchResult;

export type MemalignVariant = 'memalign' | 'aligned_alloc' | 'posix_memalign' | 'valloc' | 'pvalloc';

export type ThpMode = 'always' | 'madvise' | 'never';

interface CallBase {
  readonly pid: number;
  /** The calling thread. A process's first thread is whichever calls first. */
  readonly tid: number;
  /** Answers to the requests of earlier rounds of decide(), in request order. */
  readonly answers?: readonly SyscallAnswer[];
}

/** A process comes into being with its initial program break and environment. */
export interface CreateHeap {
  readonly type: 'CreateHeap';
  readonly pid: number;
  /** The program break before the first allocation (sbrk(0)). */
  readonly brkStart: number;
  /** "NAME=value" in envp order: MALLOC_*_ variables and GLIBC_TUNABLES. */
  readonly env?: readonly string[];
  /** Online CPUs: the arena limit is 8 per CPU. */
  readonly cpus: number;
  /** vm.overcommit_memory (2 makes thread heaps shrink by remapping). Default 0. */
  readonly overcommitMemory?: number;
  /** /sys/kernel/mm/transparent_hugepage/enabled (glibc.malloc.hugetlb=1 needs 'madvise'). Default 'madvise'. */
  readonly thpMode?: ThpMode;
  /** AT_SECURE (setuid): environment tunables are ignored. */
  readonly secure?: boolean;
}

export interface Malloc extends CallBase {
  readonly type: 'Malloc';
  readonly size: number;
}
export interface Free extends CallBase {
  readonly type: 'Free';
  readonly ptr: number;
}
export interface Calloc extends CallBase {
  readonly type: 'Calloc';
  readonly nmemb: number;
  readonly size: number;
}
export interface Realloc extends CallBase {
  readonly type: 'Realloc';
  readonly ptr: number;
  readonly size: number;
}
export interface Memalign extends CallBase {
  readonly type: 'Memalign';
  readonly variant: MemalignVariant;
  /** Ignored by valloc and pvalloc (the page size). */
  readonly alignment: number;
  readonly size: number;
}
export interface Mallopt extends CallBase {
  readonly type: 'Mallopt';
  /** glibc's numbering: M_MXFAST 1, M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3, M_MMAP_MAX -4, M_CHECK_ACTION -5, M_PERTURB -6, M_ARENA_TEST -7, M_ARENA_MAX -8. */
  readonly param: number;
  /** A C int. */
  readonly value: number;
}
export interface MallocTrim extends CallBase {
  readonly type: 'MallocTrim';
  readonly pad: number;
}
export interface MallocUsableSize extends CallBase {
  readonly type: 'MallocUsableSize';
  readonly ptr: number;
}
export interface Mallinfo2Call extends CallBase {
  readonly type: 'Mallinfo2';
}
export interface MallocStats extends CallBase {
  readonly type: 'MallocStats';
}
/** The program stored `len` bytes at ptr + offset (a store past the block corrupts the heap). */
export interface Write extends CallBase {
  readonly type: 'Write';
  readonly ptr: number;
  readonly offset: number;
  readonly len: number;
  /** The byte stored (default 0xa5, what heapprog-run stores). */
  readonly byte?: number;
}
/** A thread exits: its tcache goes back to its arena and the arena to the free list. */
export interface ThreadExit extends CallBase {
  readonly type: 'ThreadExit';
}
/** The process is gone (exited, or killed): its allocator is dropped. */
export interface ForgetProcess {
  readonly type: 'ForgetProcess';
  readonly pid: number;
  readonly reason: string;
}

export type HeapCallCommand =
  | Malloc
  | Free
  | Calloc
  | Realloc
  | Memalign
  | Mallopt
  | MallocTrim
  | MallocUsableSize
  | Mallinfo2Call
  | MallocStats
  | Write
  | ThreadExit;

export type HeapCommand = CreateHeap | ForgetProcess | HeapCallCommand;

/** The glibc function a call ran. */
export type HeapCallName =
  | 'malloc'
  | 'free'
  | 'calloc'
  | 'realloc'
  | 'memalign'
  | 'aligned_alloc'
  | 'posix_memalign'
  | 'valloc'
  | 'pvalloc'
  | 'mallopt'
  | 'malloc_trim'
  | 'malloc_usable_size'
  | 'mallinfo2'
  | 'malloc_stats'
  | 'write'
  | 'thread_exit';

/** struct mallinfo2 (all arenas summed, as glibc reports it). */
export interface Mallinfo2 {
  readonly arena: number;
  readonly ordblks: number;
  readonly smblks: number;
  readonly hblks: number;
  readonly hblkhd: number;
  readonly usmblks: number;
  readonly fsmblks: number;
  readonly uordblks: number;
  readonly fordblks: number;
  readonly keepcost: number;
}

/**
 * What the call returned, or how the process ended in it.
 *  - pointer: malloc, calloc, realloc, memalign family (0 is NULL); `errno` is posix_memalign's return value.
 *  - value: mallopt, malloc_trim, malloc_usable_size.
 *  - mallinfo2 / stats: the figures, and malloc_stats's stderr text.
 *  - none: free, write, thread_exit.
 *  - aborted: glibc printed `message` and called abort() (SIGABRT).
 *  - crashed: the allocator touched an address the process has no mapping for (SIGSEGV).
 *  - hung: a corrupted list loops; the real process would spin in `message` forever.
 *  - killed: a store or load of the call was answered by a signal (OOM kill, SIGSEGV from vma).
 */
export type HeapCallResult =
  | { readonly kind: 'pointer'; readonly value: number; readonly errno?: number }
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'mallinfo2'; readonly mallinfo2: Mallinfo2 }
  | { readonly kind: 'stats'; readonly text: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'aborted'; readonly message: string }
  | { readonly kind: 'crashed'; readonly addr: number }
  | { readonly kind: 'hung'; readonly message: string }
  | { readonly kind: 'killed'; readonly signal: 'SIGKILL' | 'SIGSEGV'; readonly addr: number };

/** A system call the allocator made, with vma's answer. `seq` is its place among all requests of the call. */
export interface HeapSyscallRecord {
  readonly seq: number;
  readonly call: Syscall;
  readonly result: SyscallResult;
}

/** One batch of loads and stores sent to vma, with its answer. */
export interface HeapTouchRecord {
  readonly seq: number;
  /** Page-aligned, sorted, merged; a page both read and written is only in `writes`. */
  readonly writes: readonly AddrRange[];
  readonly reads: readonly AddrRange[];
  readonly result: TouchResult;
}

export interface HeapCreated {
  readonly type: 'HeapCreated';
  readonly pid: number;
  readonly brkStart: number;
  readonly env: readonly string[];
  readonly cpus: number;
  readonly overcommitMemory: number;
  readonly thpMode: ThpMode;
  readonly secure: boolean;
  /** MODEL_VERSION of the model that created it. */
  readonly modelVersion: number;
}

export interface HeapCallCompleted {
  readonly type: 'HeapCallCompleted';
  readonly pid: number;
  readonly tid: number;
  readonly call: HeapCallName;
  /** The call's arguments in C order (free: [ptr]; calloc: [nmemb, size]; memalign: [alignment, size]; write: [ptr, offset, len, byte]; ...). */
  readonly args: readonly number[];
  readonly result: HeapCallResult;
  readonly syscalls: readonly HeapSyscallRecord[];
  readonly touches: readonly HeapTouchRecord[];
}

/** glibc aborted the process (or it faulted, or hung) during the call before. */
export interface HeapAborted {
  readonly type: 'HeapAborted';
  readonly pid: number;
  readonly signal: 'SIGABRT' | 'SIGSEGV' | 'hang';
  readonly message: string;
}

export interface HeapForgotten {
  readonly type: 'HeapForgotten';
  readonly pid: number;
  readonly reason: string;
}

export type HeapEvent = HeapCreated | HeapCallCompleted | HeapAborted | HeapForgotten;
