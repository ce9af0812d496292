// The allocator of one simulated process, as its program calls it: glibc 2.36's malloc family
// with a thread id on each call. Each call runs the ported glibc code (malloc/) against the
// process's memory and its HeapSys, then reports the call's loads and stores.
//
// A call that makes glibc abort (malloc_printerr) throws MallocAbort with glibc's message; one
// that dereferences an unmapped address throws SegvError. Either way the process is dead and
// every later call throws the same again.
import type { HeapSys } from '../contracts/heap-sys.js';
import { CHUNK_HDR_SZ, IS_MMAPPED, request2size } from './constants.js';
import {
  libcCalloc,
  libcFree,
  libcMallinfo2,
  libcMallopt,
  libcMalloc,
  libcMemalign,
  libcPvalloc,
  libcRealloc,
  libcValloc,
  mallocStats,
  mallocTrim,
  mallocUsableSize,
  posixMemalign,
  threadExit,
} from './malloc/api.js';
import { callocFast, intMallocFast } from './malloc/fast-malloc.js';
import { FAST_DONE, freeFast, mallocFast, NOT_CACHED } from './malloc/fast-paths.js';
import type { Mallinfo2 } from './malloc/stats.js';
import { SegvError } from './memory/word-memory.js';
import { HeapProcess, MallocAbort, MallocHang, type HeapProcessConfig } from './process.js';
import { parseMallocTunables, type MallocTunables } from './tunables.js';

export interface PtmallocOptions extends HeapProcessConfig {
  /** The process's environment, "NAME=value" in envp order (MALLOC_*_ and GLIBC_TUNABLES). */
  readonly env?: readonly string[];
  /**
   * The HeapSys loses a page only when this allocator drops it (an in-process LocalSys): each
   * page's first load and store is reported once, not in every call. Leave unset for vma.
   */
  readonly touchesPersist?: boolean;
  /**
   * Serve the common calls through malloc/fast-paths.ts (default true). They give the same
   * results, memory and touches as the general path; false is for checking that.
   */
  readonly fastPaths?: boolean;
}

export type MemalignVariant = 'memalign' | 'aligned_alloc' | 'posix_memalign' | 'valloc' | 'pvalloc';

/** Whether e ends the process: glibc aborted, a fault, a spin on a corrupted list, or already dead. */
export function isProcessDeath(e: unknown): e is MallocAbort | SegvError | MallocHang | ProcessDead {
  return e instanceof MallocAbort || e instanceof SegvError || e instanceof MallocHang || e instanceof ProcessDead;
}

/** Thrown by every call once the process is gone. */
export class ProcessDead {
  readonly name = 'ProcessDead';
  constructor(readonly reason: string) {}
}

export class Ptmalloc {
  readonly heap: HeapProcess;
  readonly tunables: MallocTunables;
  private lastTid = NaN;
  private readonly fast: boolean;

  constructor(readonly options: PtmallocOptions, sys: HeapSys) {
    this.fast = options.fastPaths ?? true;
    this.heap = new HeapProcess(options, sys);
    this.heap.mem.persistTouches = options.touchesPersist ?? false;
    this.tunables = parseMallocTunables(options.env ?? [], options.secure ?? false);
  }

  get sys(): HeapSys {
    return this.heap.sys;
  }
  set sys(s: HeapSys) {
    this.heap.sys = s;
  }

  private enter(tid: number): void {
    const h = this.heap;
    if (h.dead !== null) throw new ProcessDead(h.dead);
    if (tid !== this.lastTid) {
      h.enterThread(tid);
      this.lastTid = tid;
    }
  }

  private fail(e: unknown): never {
    if (e instanceof MallocAbort) this.heap.dead = `abort: ${e.message}`;
    else if (e instanceof SegvError) this.heap.dead = `SIGSEGV at 0x${e.addr.toString(16)}`;
    else if (e instanceof MallocHang) this.heap.dead = `hang: ${e.where}`;
    this.heap.mem.discardTouches();
    this.lastTid = NaN;
    throw e;
  }

  private done(): void {
    this.heap.flushTouches();
  }

  malloc(tid: number, size: number): number {
    if (tid === this.lastTid && this.heap.dead === null && this.fast) {
      // the same thread as the last call: the tcache hit needs nothing else (malloc/fast-paths.ts)
      const r = mallocFast(this.heap, size);
      if (r === FAST_DONE) return this.heap.io[0];
      if (r === NOT_CACHED) return this.mallocUncached(tid, size);
    }
    return this.mallocGeneral(tid, size);
  }

  /** malloc when the fast path found the tcache empty for the size: _int_malloc, fast if it can. */
  private mallocUncached(tid: number, size: number): number {
    return intMallocFast(this.heap, request2size(size)) === FAST_DONE ? this.heap.io[0] : this.mallocGeneral(tid, size);
  }

  private mallocGeneral(tid: number, size: number): number {
    this.enter(tid);
    try {
      const r = libcMalloc(this.heap, this.tunables, size);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  free(tid: number, ptr: number): void {
    if (tid === this.lastTid && this.heap.dead === null && ptr !== 0 && this.fast) {
      this.heap.io[0] = ptr;
      if (freeFast(this.heap)) return;
    }
    this.enter(tid);
    try {
      libcFree(this.heap, ptr);
      this.done();
    } catch (e) {
      this.fail(e);
    }
  }

  calloc(tid: number, nmemb: number, size: number): number {
    if (tid === this.lastTid && this.heap.dead === null && this.fast) {
      try {
        if (callocFast(this.heap, nmemb, size) === FAST_DONE) {
          this.done();
          return this.heap.io[0];
        }
      } catch (e) {
        return this.fail(e);
      }
    }
    this.enter(tid);
    try {
      const r = libcCalloc(this.heap, this.tunables, nmemb, size);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  realloc(tid: number, ptr: number, size: number): number {
    this.enter(tid);
    try {
      const r = libcRealloc(this.heap, this.tunables, ptr, size);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  /** memalign, aligned_alloc, valloc, pvalloc: the pointer; posix_memalign: the pointer or 0. */
  memalign(tid: number, variant: MemalignVariant, alignment: number, size: number): number {
    return this.memalignFull(tid, variant, alignment, size)[1];
  }

  /** [posix_memalign's return value (0 for the others), the pointer]. */
  memalignFull(tid: number, variant: MemalignVariant, alignment: number, size: number): [number, number] {
    this.enter(tid);
    try {
      let r: [number, number];
      const h = this.heap, t = this.tunables;
      switch (variant) {
        case 'memalign':
        case 'aligned_alloc':
          r = [0, libcMemalign(h, t, alignment, size)];
          break;
        case 'posix_memalign':
          r = posixMemalign(h, t, alignment, size);
          break;
        case 'valloc':
          r = [0, libcValloc(h, t, size)];
          break;
        case 'pvalloc':
          r = [0, libcPvalloc(h, t, size)];
          break;
      }
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  mallopt(tid: number, param: number, value: number): number {
    this.enter(tid);
    try {
      const r = libcMallopt(this.heap, this.tunables, param, value);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  mallocTrim(tid: number, pad: number): number {
    this.enter(tid);
    try {
      const r = mallocTrim(this.heap, this.tunables, pad);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  mallocUsableSize(tid: number, ptr: number): number {
    this.enter(tid);
    try {
      const r = mallocUsableSize(this.heap, ptr);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  mallinfo2(tid: number): Mallinfo2 {
    this.enter(tid);
    try {
      const r = libcMallinfo2(this.heap, this.tunables);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  mallocStats(tid: number): string {
    this.enter(tid);
    try {
      const r = mallocStats(this.heap, this.tunables);
      this.done();
      return r;
    } catch (e) {
      return this.fail(e);
    }
  }

  /** The program stored `len` bytes of `byte` at ptr + offset (heapprog-run stores 0xa5). */
  write(tid: number, ptr: number, offset: number, len: number, byte = 0xa5): void {
    this.enter(tid);
    try {
      if (len > 0) this.heap.mem.fill(ptr + offset, len, byte);
      this.done();
    } catch (e) {
      this.fail(e);
    }
  }

  /** The thread exits: its tcache goes back to its arena, the arena to the free list. */
  threadExit(tid: number): void {
    this.enter(tid);
    try {
      threadExit(this.heap);
      this.done();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Whether the block at ptr is an mmapped chunk (read from its header, as heapprog-run does). */
  isMmapped(ptr: number): boolean {
    return (this.heap.mem.peekLo(ptr - CHUNK_HDR_SZ + 8) & IS_MMAPPED) !== 0;
  }

  /** The chunk size of the block at ptr, from its header. */
  chunkSize(ptr: number): number {
    const v = this.heap.mem.peek(ptr - CHUNK_HDR_SZ + 8);
    return v - (v % 8);
  }

  private deadAtBegin: string | null = null;

  /** Opens a transaction: rollback() undoes every call since. */
  begin(): void {
    this.deadAtBegin = this.heap.dead;
    this.heap.begin();
  }
  commit(): void {
    this.heap.commit();
  }
  rollback(): void {
    this.heap.rollback();
    this.heap.dead = this.deadAtBegin;
    this.lastTid = NaN;
  }
}
