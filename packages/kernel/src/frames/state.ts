// The frames aggregate's state for one machine. Per-frame state lives in four typed arrays of
// 4 bytes each (16 bytes per 4 KiB frame in total):
//   word   flags and an owner handle (frame-word.ts)
//   index  the page's offset in its owner (anon: virtual page number; file: page index), low 32 bits
//   next   \ links of the one list a frame is on: a buddy free list (free block heads), an LRU
//   prev   / list (user pages) or a kernel-page list (kernel pages); all lists are circular.
// Everything else is per zone, per memcg, per owner or per swap slot. Every write goes through
// the set* methods, which keep the incremental hash current and, while decide() runs, record
// the old value in the journal.
import { AddHash, DEFAULT_KERNEL_PROFILE, type KernelProfile } from '../common/index.js';
import type { MachineConfig } from '../machine/config.js';
import { CTR_SIZE, MS, M_PARENT, M_MAX, M_LRU_HEAD, M_K_HEAD, M_ID, M_HIGH, M_SWAP_MAX } from './counters.js';
import { NR_KERNEL_KINDS, NR_LRU_LISTS, NR_PAGE_ORDERS } from './constants.js';
import { Journal, type JournaledArray } from './journal.js';
import { FrameHash } from './frame-hash.js';
import type { Layout } from './layout.js';

// Journal array ids (index into FramesState.arrays).
export const A_WORD = 0;
export const A_INDEX = 1;
export const A_NEXT = 2;
export const A_PREV = 3;
export const A_FREEHEAD = 4;
export const A_MCG = 5;
export const A_SWAPMAP = 6;
export const A_HKIND = 7;
export const A_HOWNER = 8;
export const A_HMEMCG = 9;
export const A_HFILE = 10;
export const A_HREFS = 11;
export const A_HFREE = 12;
export const A_FMAXCHUNK = 13;
export const A_SWAPCG = 14;
const NR_ARRAYS = 15;

export class FramesState {
  booted = false;
  profile: KernelProfile = DEFAULT_KERNEL_PROFILE;
  config: MachineConfig | null = null;
  layout: Layout | null = null;
  nFrames = 0;
  nZones = 0;
  /** First frame index of DMA32 and of Normal (zone of frame i: i < z1 ? 0 : i < z2 ? 1 : 2). */
  z1 = 0;
  z2 = 0;

  word = new Uint32Array(0);
  index = new Uint32Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** Head of each buddy free list, by zone * NR_PAGE_ORDERS + order; -1 when empty. */
  freeHead = new Int32Array(5 * NR_PAGE_ORDERS).fill(-1);
  ctr = new Float64Array(CTR_SIZE);
  private ctrSave = new Float64Array(CTR_SIZE);

  /** Memcg table, MS numbers per memcg; index 0 is the root (id 0). */
  mcg = new Float64Array(0);
  memcgIdx = new Map<number, number>();

  /** Owner handles: (kind, owner id, memcg) triples that user frames point to. */
  handleKind = new Uint8Array(0);
  handleOwner = new Float64Array(0);
  handleMemcg = new Int32Array(0);
  /** The page-cache file number of a file/shmem/bdev handle, -1 for anon. */
  handleFile = new Int32Array(0);
  handleRefs = new Float64Array(0);
  handleFree = new Int32Array(0);
  handleIds = new Map<number, number>();

  /** Page-cache files: (kind, owner id) -> file number. */
  fileIds = new Map<number, number>();
  fileMaxChunk = new Float64Array(0);
  /** Page-cache index: (file number, index >> 9) -> 512 slots (+1: live count); see page-cache.ts. */
  chunks = new Map<number, Int32Array>();

  /** swap_map: bits 0..14 the reference count, bit 15 SWAP_HAS_CACHE. Slot 0 is the header. */
  swapMap = new Uint16Array(0);
  swapCacheBySlot = new Map<number, number>();
  swapCacheByIdx = new Map<number, number>();
  /**
   * swap_cgroup: the memcg index each slot's swap charge went to (0: none; the root memcg is not
   * charged for swap), so that freeing the slot uncharges the memcg that was charged.
   */
  swapCgroup = new Uint16Array(0);

  /** Incremental hashes: frames (word, index), owner handles, swap map, shmem swap entries, swap cache, swap_cgroup. */
  fh = new FrameHash();
  hh = new AddHash();
  sh = new AddHash();
  ph = new AddHash();
  ch = new AddHash();
  wh = new AddHash();
  private hashSave = new Float64Array(12);

  j: Journal | null = null;
  /**
   * The event a decide() left applied (speculative: its journal is still open). evolve() with
   * that very event keeps the work; anything else rolls it back first (settle()).
   */
  spec: object | null = null;
  /**
   * Pages charged above memory.high since the last high reclaim, within the event being applied
   * (reset by ops.ts execute() for each event, so decide and evolve take the same path; not state).
   */
  overHighPages = 0;
  private readonly journal = new Journal();
  arrays: JournaledArray[] = new Array<JournaledArray>(NR_ARRAYS);

  constructor() {
    this.refreshArrays();
  }

  refreshArrays(): void {
    const a = this.arrays;
    a[A_WORD] = this.word;
    a[A_INDEX] = this.index;
    a[A_NEXT] = this.next;
    a[A_PREV] = this.prev;
    a[A_FREEHEAD] = this.freeHead;
    a[A_MCG] = this.mcg;
    a[A_SWAPMAP] = this.swapMap;
    a[A_HKIND] = this.handleKind;
    a[A_HOWNER] = this.handleOwner;
    a[A_HMEMCG] = this.handleMemcg;
    a[A_HFILE] = this.handleFile;
    a[A_HREFS] = this.handleRefs;
    a[A_HFREE] = this.handleFree;
    a[A_FMAXCHUNK] = this.fileMaxChunk;
    a[A_SWAPCG] = this.swapCgroup;
  }

  // ---- journal -------------------------------------------------------------------------

  /** Starts recording undo information (decide()). */
  beginJournal(): void {
    if (this.j !== null) throw new Error('frames: journal already open');
    this.ctrSave.set(this.ctr);
    const hs = [this.fh, this.hh, this.sh, this.ph, this.ch, this.wh];
    hs.forEach((h, k) => {
      this.hashSave[2 * k] = h.lo;
      this.hashSave[2 * k + 1] = h.hi;
    });
    this.j = this.journal;
  }

  /** Puts everything back as it was at beginJournal(). */
  rollback(): void {
    const j = this.j;
    if (j === null) return;
    this.j = null;
    j.rollback(this.arrays);
    this.ctr.set(this.ctrSave);
    const hs = [this.fh, this.hh, this.sh, this.ph, this.ch, this.wh];
    hs.forEach((h, k) => {
      h.lo = this.hashSave[2 * k];
      h.hi = this.hashSave[2 * k + 1];
    });
  }

  /** Keeps everything done since beginJournal() (evolve of the event decide just computed). */
  commit(): void {
    const j = this.j;
    if (j === null) return;
    this.j = null;
    j.clear();
  }

  /** Rolls back a speculative decide() that evolve() did not take. Every read calls this first. */
  settle(): this {
    if (this.spec !== null) {
      this.spec = null;
      this.rollback();
    }
    return this;
  }

  /** Records a Map or object change so rollback() can undo it. */
  undo(action: () => void): void {
    if (this.j !== null) this.j.recUndo(action);
  }

  // ---- per-frame writes ----------------------------------------------------------------

  setWord(i: number, v: number): void {
    const old = this.word[i];
    if (old === v) return;
    if (this.j !== null) this.j.rec(A_WORD, i, old);
    const x = this.index[i];
    this.fh.entry(i, old, x, -1);
    this.fh.entry(i, v, x, 1);
    this.word[i] = v;
  }

  setIndex(i: number, v: number): void {
    const old = this.index[i];
    if (old === v) return;
    if (this.j !== null) this.j.rec(A_INDEX, i, old);
    const w = this.word[i];
    this.fh.entry(i, w, old, -1);
    this.fh.entry(i, w, v, 1);
    this.index[i] = v;
  }

  /** Sets both at once (one hash update instead of two). */
  setWordIndex(i: number, w: number, x: number): void {
    const ow = this.word[i];
    const ox = this.index[i];
    if (ow === w && ox === x) return;
    if (this.j !== null) {
      this.j.rec(A_WORD, i, ow);
      this.j.rec(A_INDEX, i, ox);
    }
    this.fh.entry(i, ow, ox, -1);
    this.fh.entry(i, w, x, 1);
    this.word[i] = w;
    this.index[i] = x;
  }

  setNext(i: number, v: number): void {
    if (this.j !== null) this.j.rec(A_NEXT, i, this.next[i]);
    this.next[i] = v;
  }

  setPrev(i: number, v: number): void {
    if (this.j !== null) this.j.rec(A_PREV, i, this.prev[i]);
    this.prev[i] = v;
  }

  setFreeHead(k: number, v: number): void {
    if (this.j !== null) this.j.rec(A_FREEHEAD, k, this.freeHead[k]);
    this.freeHead[k] = v;
  }

  /** A memcg table entry. */
  setM(k: number, v: number): void {
    if (this.j !== null) this.j.rec(A_MCG, k, this.mcg[k]);
    this.mcg[k] = v;
  }

  addM(k: number, d: number): void {
    this.setM(k, this.mcg[k] + d);
  }

  setSwap(slot: number, v: number): void {
    const old = this.swapMap[slot];
    if (old === v) return;
    if (this.j !== null) this.j.rec(A_SWAPMAP, slot, old);
    if (old !== 0) this.sh.remove(slot, old);
    if (v !== 0) this.sh.add(slot, v);
    this.swapMap[slot] = v;
  }

  /** The memcg a slot's swap charge belongs to (0: none). */
  setSwapCgroup(slot: number, m: number): void {
    const old = this.swapCgroup[slot];
    if (old === m) return;
    if (this.j !== null) this.j.rec(A_SWAPCG, slot, old);
    if (old !== 0) this.wh.remove(slot, old);
    if (m !== 0) this.wh.add(slot, m);
    this.swapCgroup[slot] = m;
  }

  setHandleRefs(h: number, v: number): void {
    if (this.j !== null) this.j.rec(A_HREFS, h, this.handleRefs[h]);
    this.handleRefs[h] = v;
  }

  setArr(id: number, k: number, v: number): void {
    const a = this.arrays[id];
    if (this.j !== null) this.j.rec(id, k, a[k]);
    a[k] = v;
  }

  // ---- growable tables -------------------------------------------------------------------

  ensureMemcgCapacity(n: number): void {
    if (this.mcg.length >= n * MS) return;
    const cap = Math.max(n, 2 * (this.mcg.length / MS), 8);
    const a = new Float64Array(cap * MS);
    a.set(this.mcg);
    this.mcg = a;
    this.refreshArrays();
  }

  ensureHandleCapacity(n: number): void {
    if (this.handleKind.length >= n) return;
    const cap = Math.max(n, 2 * this.handleKind.length, 64);
    const grow = <T extends JournaledArray>(old: T, make: (len: number) => T): T => {
      const a = make(cap);
      a.set(old);
      return a;
    };
    this.handleKind = grow(this.handleKind, (l) => new Uint8Array(l));
    this.handleOwner = grow(this.handleOwner, (l) => new Float64Array(l));
    this.handleMemcg = grow(this.handleMemcg, (l) => new Int32Array(l));
    this.handleFile = grow(this.handleFile, (l) => new Int32Array(l));
    this.handleRefs = grow(this.handleRefs, (l) => new Float64Array(l));
    this.handleFree = grow(this.handleFree, (l) => new Int32Array(l));
    this.refreshArrays();
  }

  ensureFileCapacity(n: number): void {
    if (this.fileMaxChunk.length >= n) return;
    const a = new Float64Array(Math.max(n, 2 * this.fileMaxChunk.length, 64));
    a.set(this.fileMaxChunk);
    this.fileMaxChunk = a;
    this.refreshArrays();
  }

  /** Memcg table row initialisation (new memcg at index m). */
  initMemcgRow(m: number, id: number, parent: number, max: number): void {
    const b = m * MS;
    for (let k = 0; k < MS; k++) this.setM(b + k, 0);
    this.setM(b + M_ID, id);
    this.setM(b + M_PARENT, parent);
    this.setM(b + M_MAX, max);
    this.setM(b + M_HIGH, -1);
    this.setM(b + M_SWAP_MAX, -1);
    for (let l = 0; l < NR_LRU_LISTS; l++) this.setM(b + M_LRU_HEAD + l, -1);
    for (let k = 0; k < NR_KERNEL_KINDS; k++) this.setM(b + M_K_HEAD + k, -1);
  }
}

