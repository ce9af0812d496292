// One simulated process's glibc malloc: its memory (as the allocator sees it), malloc_par
// (mp_), the other statics of malloc.c and arena.c, the threads that have called in, and the
// allocator's side of its system calls.
//
// main_arena is a static in libc's data segment; it lives here at a fixed address above user
// space (LIBC_DATA), so bins and the initial top alias their neighbours exactly as in C and
// no heap page is touched for them. Arenas made for other threads live inside their heaps.
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, type HeapSys } from '../contracts/heap-sys.js';
import {
  C_SIZE,
  DEFAULT_ARENA_TEST,
  DEFAULT_MMAP_MAX,
  DEFAULT_MMAP_THRESHOLD,
  DEFAULT_TOP_PAD,
  DEFAULT_TRIM_THRESHOLD,
  MAX_TCACHE_SIZE,
  MS_ATTACHED_THREADS,
  MS_NEXT,
  PAGESIZE,
  TCACHE_FILL_COUNT,
  TCACHE_MAX_BINS,
} from './constants.js';
import { MapUse, Mappings } from './memory/mappings.js';
import { WordMemory } from './memory/word-memory.js';

/** Where libc's data (main_arena) sits: just above the 47-bit user address space. */
export const LIBC_DATA = 2 ** 47;
export const MAIN_ARENA = LIBC_DATA + 0x100;

/** tcache_key (glibc draws it from getrandom; a fixed value keeps runs identical). */
export const TCACHE_KEY_LO = 0x8f1bbcdc;
export const TCACHE_KEY_HI = 0xca62c1d6;

/** malloc_printerr(): glibc printed `message` and called abort(). */
export class MallocAbort {
  readonly name = 'MallocAbort';
  constructor(readonly message: string) {}
}

/**
 * A list walk met more nodes than the arena could hold: a corrupted list has a cycle, and the
 * real process would spin in `where` forever. The simulation stops it there.
 */
export class MallocHang {
  readonly name = 'MallocHang';
  constructor(readonly where: string) {}
}

// Indices into HeapProcess.g.
export const enum G {
  TrimThreshold,
  TopPad,
  MmapThreshold,
  ArenaTest,
  ArenaMax,
  ThpPagesize,
  HpPagesize,
  HpFlags,
  NMmaps,
  NMmapsMax,
  MaxNMmaps,
  NoDynThreshold,
  MmappedMem,
  MaxMmappedMem,
  SbrkBase,
  TcacheBins,
  TcacheMaxBytes,
  TcacheCount,
  TcacheUnsortedLimit,
  GlobalMaxFast,
  PerturbByte,
  Narenas,
  NarenasLimit,
  FreeList,
  AlignedHeapArea,
  NextToUse,
  Initialized,
  Curbrk,
  MayShrinkHeap,
  MultiThreaded,
  AlwaysFailMorecore,
  NThreads,
  Current,
  Count,
}

// The thread table follows the globals: [tid, thread_arena, tcache, tcache_shutting_down].
const T_BASE = 64;
const T_STRIDE = 4;

export interface HeapProcessConfig {
  /** The program break when the process starts (sbrk(0) before the first allocation). */
  readonly brkStart: number;
  /** Online CPUs (__get_nprocs): the arena limit is 8 per core. */
  readonly cpus: number;
  /** vm.overcommit_memory == 2 makes shrink_heap remap instead of madvise (check_may_shrink_heap). */
  readonly overcommitMemory?: number;
  /** AT_SECURE (setuid): environment tunables are ignored and shrink_heap remaps. */
  readonly secure?: boolean;
  /** THP mode (/sys/kernel/mm/transparent_hugepage/enabled): glibc.malloc.hugetlb=1 acts only in 'madvise'. */
  readonly thpMode?: 'always' | 'madvise' | 'never';
}

export class HeapProcess {
  readonly mappings = new Mappings();
  readonly mem = new WordMemory(this.mappings, LIBC_DATA);
  g = new Float64Array(T_BASE + T_STRIDE * 8);
  private readonly gJournal: number[] = [];
  private txOpen = false;
  sys: HeapSys;
  /** Set once glibc aborted or the process died: no more calls. */
  dead: string | null = null;

  constructor(readonly config: HeapProcessConfig, sys: HeapSys) {
    this.sys = sys;
    const g = this.g;
    g[G.TopPad] = DEFAULT_TOP_PAD;
    g[G.NMmapsMax] = DEFAULT_MMAP_MAX;
    g[G.MmapThreshold] = DEFAULT_MMAP_THRESHOLD;
    g[G.TrimThreshold] = DEFAULT_TRIM_THRESHOLD;
    g[G.ArenaTest] = DEFAULT_ARENA_TEST;
    g[G.TcacheCount] = TCACHE_FILL_COUNT;
    g[G.TcacheBins] = TCACHE_MAX_BINS;
    g[G.TcacheMaxBytes] = MAX_TCACHE_SIZE;
    g[G.Narenas] = 1;
    g[G.MayShrinkHeap] = -1;
    g[G.Curbrk] = config.brkStart;
    const brkPage = config.brkStart - (config.brkStart % PAGESIZE);
    const brkEnd = Math.ceil(config.brkStart / PAGESIZE) * PAGESIZE;
    if (brkEnd > brkPage) this.mappings.map(brkPage, brkEnd - brkPage, 3, MapUse.Brk);
    this.mem.setBrkRegion(brkPage, brkEnd);
    this.mappings.map(LIBC_DATA, PAGESIZE, 3, MapUse.Libc);
    // static struct malloc_state main_arena = { .next = &main_arena, .attached_threads = 1 };
    this.mem.wr(MAIN_ARENA + MS_NEXT, MAIN_ARENA);
    this.mem.wr(MAIN_ARENA + MS_ATTACHED_THREADS, 1);
    this.mem.discardTouches();
  }

  // ------------------------------------------------------------------ scalar state

  set(i: number, v: number): void {
    if (this.txOpen) this.gJournal.push(i, this.g[i]);
    this.g[i] = v;
  }

  // ------------------------------------------------------------------ threads

  /** Selects (and on first sight adds) the calling thread. */
  enterThread(tid: number): void {
    const g = this.g;
    const n = g[G.NThreads];
    for (let i = 0; i < n; i++) {
      if (g[T_BASE + i * T_STRIDE] === tid) {
        if (g[G.Current] !== i) this.set(G.Current, i);
        this.syncThread();
        return;
      }
    }
    const need = T_BASE + (n + 1) * T_STRIDE;
    if (need > g.length) {
      const bigger = new Float64Array(g.length * 2);
      bigger.set(g);
      this.g = bigger;
    }
    this.set(T_BASE + n * T_STRIDE, tid);
    this.set(T_BASE + n * T_STRIDE + 1, 0);
    this.set(T_BASE + n * T_STRIDE + 2, 0);
    this.set(T_BASE + n * T_STRIDE + 3, 0);
    this.set(G.NThreads, n + 1);
    this.set(G.Current, n);
    this.syncThread();
    // A second thread exists: SINGLE_THREAD_P is false from now on.
    if (n + 1 > 1 && this.g[G.MultiThreaded] === 0) this.set(G.MultiThreaded, 1);
  }

  get singleThread(): boolean {
    return this.g[G.MultiThreaded] === 0;
  }

  /** The current thread's tcache (a copy of its table entry, for the hot path). */
  tcache = 0;

  /**
   * The pointer going into or out of a fast path (malloc/fast-*.ts): they return a status and
   * take or leave the pointer here, because a pointer-sized number passed to or returned from
   * a call V8 does not inline is a new heap number each time.
   */
  readonly io = new Float64Array(1);

  /** The halves of the pointer malloc/arena-state.ts loadRevealed() last revealed. */
  revealedLo = 0;
  revealedHi = 0;

  get threadArena(): number {
    return this.g[T_BASE + this.g[G.Current] * T_STRIDE + 1];
  }
  set threadArena(a: number) {
    this.set(T_BASE + this.g[G.Current] * T_STRIDE + 1, a);
  }
  setTcache(t: number): void {
    this.set(T_BASE + this.g[G.Current] * T_STRIDE + 2, t);
    this.tcache = t;
  }
  private syncThread(): void {
    this.tcache = this.g[G.NThreads] > 0 ? this.g[T_BASE + this.g[G.Current] * T_STRIDE + 2] : 0;
  }
  get tcacheShuttingDown(): boolean {
    return this.g[T_BASE + this.g[G.Current] * T_STRIDE + 3] !== 0;
  }
  set tcacheShuttingDown(v: boolean) {
    this.set(T_BASE + this.g[G.Current] * T_STRIDE + 3, v ? 1 : 0);
  }

  /** [tid, arena, tcache] of every thread seen, in order of first call. */
  threads(): { tid: number; arena: number; tcache: number }[] {
    const out: { tid: number; arena: number; tcache: number }[] = [];
    for (let i = 0; i < this.g[G.NThreads]; i++) {
      const b = T_BASE + i * T_STRIDE;
      out.push({ tid: this.g[b], arena: this.g[b + 1], tcache: this.g[b + 2] });
    }
    return out;
  }

  // ------------------------------------------------------------------ chunk fields

  /** chunksize_nomask(p) */
  sizeNomask(p: number): number {
    return this.mem.rd(p + C_SIZE);
  }
  /** chunksize(p) */
  chunksize(p: number): number {
    return this.mem.rdSize(p + C_SIZE);
  }
  /** The low three bits of p's size field. */
  flags(p: number): number {
    return this.mem.rdLo(p + C_SIZE) & 7;
  }

  // ------------------------------------------------------------------ system calls

  /** Reports queued loads and stores: before every system call, and when a call ends. */
  flushTouches(): void {
    if (this.mem.hasPendingTouches) this.mem.flush(this.sys);
  }

  /** __sbrk(increment) over the brk system call, with glibc's cached __curbrk. */
  sbrk(increment: number): number {
    const old = this.g[G.Curbrk];
    if (increment === 0) return old;
    if (increment > 0 ? old + increment >= 2 ** 64 : old < -increment) return -1;
    const want = old + increment;
    this.flushTouches();
    const got = this.sys.brk(want);
    this.set(G.Curbrk, got);
    this.brkMoved(old, got);
    if (got < want) return -1;
    return old;
  }

  /** MORECORE: __glibc_morecore, 0 on failure. */
  morecore(increment: number): number {
    if (this.g[G.AlwaysFailMorecore] !== 0) return 0;
    const r = this.sbrk(increment);
    return r === -1 ? 0 : r;
  }

  private brkMoved(from: number, to: number): void {
    if (from === to) return;
    const start = this.config.brkStart - (this.config.brkStart % PAGESIZE);
    const oldEnd = Math.ceil(from / PAGESIZE) * PAGESIZE;
    const newEnd = Math.ceil(to / PAGESIZE) * PAGESIZE;
    if (newEnd < oldEnd) {
      this.mem.drop(newEnd, oldEnd - newEnd);
      this.mappings.unmap(newEnd, oldEnd - newEnd);
    } else if (newEnd > oldEnd) {
      this.mappings.map(Math.max(oldEnd, start), newEnd - Math.max(oldEnd, start), 3, MapUse.Brk);
    }
    this.mem.setBrkRegion(start, newEnd);
  }

  /** MMAP(addr, size, prot, flags): anonymous private memory; the address or -errno. */
  mmap(addr: number, size: number, prot: number, flags: number, use: MapUse): number {
    this.flushTouches();
    const r = this.sys.mmap(addr, size, prot, flags | MAP_ANONYMOUS | MAP_PRIVATE);
    if (r >= 0) {
      // a fresh mapping reads as zero
      this.mem.drop(r, size);
      this.mappings.map(r, Math.ceil(size / PAGESIZE) * PAGESIZE, prot, use);
    }
    return r;
  }

  isMapFailed(r: number): boolean {
    return r < 0 && r >= -4095;
  }

  munmap(addr: number, len: number): number {
    this.flushTouches();
    const r = this.sys.munmap(addr, len);
    if (r === 0) {
      const l = Math.ceil(len / PAGESIZE) * PAGESIZE;
      this.mem.drop(addr, l);
      this.mappings.unmap(addr, l);
    }
    return r;
  }

  mprotect(addr: number, len: number, prot: number): number {
    this.flushTouches();
    const r = this.sys.mprotect(addr, len, prot);
    if (r === 0) this.mappings.protect(addr, Math.ceil(len / PAGESIZE) * PAGESIZE, prot);
    return r;
  }

  madvise(addr: number, len: number, advice: number): number {
    this.flushTouches();
    const r = this.sys.madvise(addr, len, advice);
    if (r === 0 && advice === 4 /* MADV_DONTNEED */) this.mem.drop(addr, Math.ceil(len / PAGESIZE) * PAGESIZE);
    return r;
  }

  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number): number {
    this.flushTouches();
    const r = this.sys.mremap(oldAddr, oldSize, newSize, flags);
    if (!this.isMapFailed(r)) {
      const m = this.mappings.find(oldAddr);
      const prot = m?.prot ?? 3;
      const use = m?.use ?? MapUse.Chunk;
      const aux = m?.aux ?? 0;
      this.mem.move(oldAddr, oldSize, r, newSize);
      this.mappings.unmap(oldAddr, oldSize);
      this.mappings.map(r, newSize, prot, use, aux === 0 ? 0 : aux - oldAddr + r);
    }
    return r;
  }

  /** MMAP(addr, size, PROT_NONE, MAP_FIXED): shrink_heap's way of giving pages back. */
  mmapFixedNone(addr: number, size: number): number {
    return this.mmap(addr, size, 0, MAP_FIXED, MapUse.ArenaHeap);
  }

  // ------------------------------------------------------------------ transactions

  begin(): void {
    this.txOpen = true;
    this.gJournal.length = 0;
    this.mem.begin();
    this.mappings.begin();
  }

  commit(): void {
    this.txOpen = false;
    this.gJournal.length = 0;
    this.mem.commit();
    this.mappings.commit();
  }

  rollback(): void {
    const j = this.gJournal;
    for (let i = j.length - 2; i >= 0; i -= 2) this.g[j[i]] = j[i + 1];
    j.length = 0;
    this.txOpen = false;
    this.mem.rollback();
    this.mappings.rollback();
    this.syncThread();
  }
}
