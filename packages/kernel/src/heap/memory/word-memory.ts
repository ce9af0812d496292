// The simulated process's memory as glibc's allocator sees it: 64-bit words in 4 KiB pages.
//
// Every load and store the allocator makes goes through here, so stale headers, footers,
// mangled tcache links and whatever the program stored are where glibc would find them, and
// a corrupted heap fails with the message glibc gives. A word is two uint32 halves (x86-64 is
// little-endian: byte k of a word is byte k of `lo` for k < 4, of `hi` otherwise), so values
// above 2^53 (tcache_key, a program's 0xa5 fill) are kept exactly.
//
// Three tiers, fastest first:
//  - the brk heap is one flat Uint32Array over [start of the break's first page, break), grown
//    by doubling (the copies add up to less than the final size);
//  - libc's data page (main_arena) is one more array, whose touches are nobody's business;
//  - every other page (mmapped chunks, thread arenas' heaps) sits in a map, created on the
//    first store; an absent page reads as zero. A page the program filled with one byte
//    shares a read-only array until glibc stores into it.
//
// Per page and per "generation" (a new one at every flush), the first load and the first
// store queue a touch, which flush() reports to the HeapSys before each system call and at the
// end of each call. Inside begin()/commit() a page is copied into the journal before its first
// change, so rollback() restores it (nothing is copied outside a transaction). A page changed
// since the last digest() is re-hashed then; the sum of page digests (AddHash) stands for the
// whole memory.
import { AddHash, fmix32 } from '../../common/hash.js';
import type { HeapSys } from '../../contracts/heap-sys.js';
import { FillExtents } from './fill-extents.js';

export const PAGE_BYTES = 4096;
const U32_PER_PAGE = 1024;
/** The flat tier journals and hashes in 512-byte blocks, so a small change copies and hashes little. */
const BLOCK_BYTES = 512;
const U32_PER_BLOCK = 128;
const CACHE_SLOTS = 256;
const TWO32 = 4294967296;
/** The state-hash key of the fill extents (page keys are -(pn + 1), block keys >= 0). */
const FILLS_KEY = -(2 ** 52);
/** The flat tier covers at most this much of the brk heap; beyond, pages go to the map. */
const FLAT_MAX = 2 ** 30;

/** A load or store at an address nothing is mapped at: the process gets SIGSEGV. */
export class SegvError {
  readonly name = 'SegvError';
  constructor(readonly addr: number) {}
}

/** Decides whether an address is mapped, and whether its touches are reported. */
export interface AddressMap {
  /** 0: not mapped (SIGSEGV); 1: mapped, touches reported; 2: mapped, not reported (libc's own data). */
  mappingKind(addr: number, write: boolean): 0 | 1 | 2;
}

class Page {
  wGen = 0;
  rGen = 0;
  tx = 0;
  dirty = false;
  constructor(
    readonly pn: number,
    public w: Uint32Array,
    public shared: boolean,
    readonly tracked: boolean,
  ) {}
}

type JournalEntry =
  | { readonly t: 'flat'; readonly blk: number; readonly data: Uint32Array }
  | { readonly t: 'flatLen'; readonly len: number }
  | { readonly t: 'flatRange'; readonly at: number; readonly data: Uint32Array }
  | { readonly t: 'libc'; readonly blk: number; readonly data: Uint32Array }
  | { readonly t: 'page'; readonly pn: number; readonly old: Page | undefined };

export class WordMemory {
  // tier 1: the brk heap. The fast paths of malloc/fast-paths.ts read these five fields (and
  // nothing else does from outside): a word at flat offset off may be loaded with no more ado
  // when hrGen[off >>> 12] === gen, and stored when hbGen[off >>> 9] === gen.
  /** The address of flat[0]. */
  hb = 0;
  /** Bytes of the brk heap in the flat tier; flat[] beyond holds zeros. */
  hlen = 0;
  flat = new Uint32Array(0);
  /** per page: the generation whose first store queued a touch */
  private hwGen = new Int32Array(0);
  /** per page: the generation whose first load was accounted (touch queued unless stored to) */
  hrGen = new Int32Array(0);
  /** per block: the generation whose first store prepared it (page touch, journal, dirty) */
  hbGen = new Int32Array(0);
  private hTx = new Int32Array(0);
  private hDirty = new Uint8Array(0);

  // tier 2: libc's data page. The fast paths read lw and lbGen: a word of it may be loaded
  // with no more ado, and stored when lbGen[offset >>> 9] === gen.
  readonly lw = new Uint32Array(U32_PER_PAGE);
  readonly lbGen = new Int32Array(8);
  private readonly lTx = new Int32Array(8);
  private lDirty = false;

  // tier 3: every other page
  private readonly pages = new Map<number, Page>();
  private readonly cacheKey = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cachePage: (Page | undefined)[] = new Array<Page | undefined>(CACHE_SLOTS).fill(undefined);
  private readonly sharedFill: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(256).fill(undefined);
  /** Whole pages of the map tier a program filled with one byte, without an array each. */
  private readonly fills = new FillExtents();
  private rpn = -1;
  private rp: Page | undefined = undefined;
  private wpn = -1;
  private wp: Page | undefined = undefined;

  /**
   * The HeapSys keeps every page it was told about until the allocator itself drops it
   * (munmap, MADV_DONTNEED, brk shrink): a page is then reported once, not once per call.
   * True for an in-process LocalSys; false for vma, which may swap a page out at any time.
   */
  persistTouches = false;

  // touches since the last flush
  /** The current generation: a new one at every flush (unless persistTouches), transaction and digest. */
  gen = 1;
  private pendingW = new Float64Array(64);
  private nW = 0;
  private pendingR = new Float64Array(64);
  private nR = 0;
  private bulkW = new Float64Array(64);
  private nBW = 0;
  private bulkR = new Float64Array(64);
  private nBR = 0;

  // transactions
  private txOpen = false;
  private txNo = 1;
  private readonly journal: JournalEntry[] = [];

  // hashing: keys are flat block numbers (addr / 512) and -(pn + 1) for other pages
  private readonly dirtyPages: number[] = [];
  private readonly pageDigest = new Map<number, number>();
  private readonly sum = new AddHash();

  constructor(
    private readonly map: AddressMap,
    readonly lb: number,
  ) {}

  private newGen(): void {
    this.gen++;
    this.rpn = -1;
    this.wpn = -1;
    this.rp = undefined;
    this.wp = undefined;
  }

  // ------------------------------------------------------------------ the brk tier

  /** The brk heap is now [start, end): start page-aligned, end the break rounded up to a page. */
  setBrkRegion(start: number, end: number): void {
    if (this.hlen === 0 && this.hb !== start) this.hb = start;
    const len = Math.min(Math.max(0, end - this.hb), FLAT_MAX);
    if (len === this.hlen) return;
    if (this.txOpen) this.journal.push({ t: 'flatLen', len: this.hlen });
    if (len < this.hlen) {
      // the kernel gives back what lies beyond: it reads as zero when the break grows again
      this.zeroFlat(len, this.hlen);
    } else this.ensureFlat(len);
    this.hlen = len;
  }

  private ensureFlat(len: number): void {
    const pages = Math.ceil(len / PAGE_BYTES);
    if (pages <= this.hwGen.length) return;
    const cap = Math.max(pages, this.hwGen.length * 2, 16);
    const w = new Uint32Array(cap * U32_PER_PAGE);
    w.set(this.flat);
    this.flat = w;
    const g = new Int32Array(cap);
    g.set(this.hwGen);
    this.hwGen = g;
    const r = new Int32Array(cap);
    r.set(this.hrGen);
    this.hrGen = r;
    const bg = new Int32Array(cap * 8);
    bg.set(this.hbGen);
    this.hbGen = bg;
    const t = new Int32Array(cap * 8);
    t.set(this.hTx);
    this.hTx = t;
    const d = new Uint8Array(cap * 8);
    d.set(this.hDirty);
    this.hDirty = d;
  }

  /** Zeroes bytes [from, to) of the flat tier (page-aligned), journaling first. */
  private zeroFlat(from: number, to: number): void {
    // the pages are gone: their next load or store is reported again
    this.hwGen.fill(0, from / PAGE_BYTES, to / PAGE_BYTES);
    this.hrGen.fill(0, from / PAGE_BYTES, to / PAGE_BYTES);
    this.hbGen.fill(0, from / BLOCK_BYTES, to / BLOCK_BYTES);
    if (from >= to) return;
    this.markBlocksDirty(from, to);
    if (this.txOpen) {
      // one copy of the range; its blocks need no copy of their own in this transaction
      this.journal.push({ t: 'flatRange', at: from >>> 2, data: this.flat.slice(from >>> 2, to >>> 2) });
      this.hTx.fill(this.txNo, from / BLOCK_BYTES, to / BLOCK_BYTES);
    }
    this.flat.fill(0, from >>> 2, to >>> 2);
  }

  private markBlocksDirty(from: number, to: number): void {
    for (let b = from / BLOCK_BYTES; b < to / BLOCK_BYTES; b++) {
      if (this.hDirty[b] === 0) {
        this.hDirty[b] = 1;
        this.dirtyPages.push(this.hb / BLOCK_BYTES + b);
      }
    }
  }

  /** Journals (in a transaction) and marks dirty the blocks of flat bytes [from, to). */
  private prepareBlocks(from: number, to: number): void {
    const last = Math.floor((to - 1) / BLOCK_BYTES);
    for (let b = Math.floor(from / BLOCK_BYTES); b <= last; b++) this.prepareBlock(b);
  }

  /** Journals (in a transaction) and marks dirty flat block b, without a touch. */
  private prepareBlock(b: number): void {
    if (this.hDirty[b] === 0) {
      this.hDirty[b] = 1;
      this.dirtyPages.push(this.hb / BLOCK_BYTES + b);
    }
    if (this.txOpen && this.hTx[b] !== this.txNo) {
      this.hTx[b] = this.txNo;
      const i = b * U32_PER_BLOCK;
      this.journal.push({ t: 'flat', blk: b, data: this.flat.slice(i, i + U32_PER_BLOCK) });
    }
  }

  /** The first store of this generation into flat block b: a touch for its page, the journal. */
  private hWrite(b: number): void {
    this.hbGen[b] = this.gen;
    const pg = b >>> 3;
    if (this.hwGen[pg] !== this.gen) {
      this.hwGen[pg] = this.gen;
      if (this.nW === this.pendingW.length) this.pendingW = grow(this.pendingW);
      this.pendingW[this.nW++] = this.hb / PAGE_BYTES + pg;
    }
    this.prepareBlock(b);
  }

  private hRead(pg: number): void {
    this.hrGen[pg] = this.gen;
    if (this.hwGen[pg] !== this.gen) this.pushRead(this.hb / PAGE_BYTES + pg);
  }

  private lWrite(b: number): void {
    this.lbGen[b] = this.gen;
    if (!this.lDirty) {
      this.lDirty = true;
      this.dirtyPages.push(-(this.lb / PAGE_BYTES) - 1);
    }
    if (this.txOpen && this.lTx[b] !== this.txNo) {
      this.lTx[b] = this.txNo;
      this.journal.push({ t: 'libc', blk: b, data: this.lw.slice(b * U32_PER_BLOCK, (b + 1) * U32_PER_BLOCK) });
    }
  }

  // ------------------------------------------------------------------ the page map tier

  private lookup(pn: number): Page | undefined {
    const i = pn & (CACHE_SLOTS - 1);
    if (this.cacheKey[i] === pn) return this.cachePage[i];
    const p = this.pages.get(pn);
    if (p !== undefined) {
      this.cacheKey[i] = pn;
      this.cachePage[i] = p;
    }
    return p;
  }

  private setPage(pn: number, p: Page | undefined): void {
    this.rpn = -1;
    this.wpn = -1;
    const old = this.pages.get(pn);
    if (this.txOpen) this.journal.push({ t: 'page', pn, old });
    if (p === undefined) this.pages.delete(pn);
    else {
      this.pages.set(pn, p);
      if (this.txOpen) p.tx = this.txNo;
    }
    const i = pn & (CACHE_SLOTS - 1);
    if (this.cacheKey[i] === pn) {
      this.cachePage[i] = p;
      if (p === undefined) this.cacheKey[i] = -1;
    }
    this.markDirty(pn, p);
  }

  private markDirty(pn: number, p: Page | undefined): void {
    if (p === undefined || !p.dirty) {
      if (p !== undefined) p.dirty = true;
      this.dirtyPages.push(-pn - 1);
    }
  }

  /** The map page at pn, ready to be stored into (materialized, private, journaled). */
  private writable(pn: number, addr: number): Page {
    let p = this.lookup(pn);
    if (p === undefined) {
      const kind = this.map.mappingKind(addr, true);
      if (kind === 0) throw new SegvError(addr);
      const byte = this.fills.byteAt(pn);
      p = new Page(pn, byte > 0 ? this.fillPage(byte).slice() : new Uint32Array(U32_PER_PAGE), false, kind === 1);
      if (byte > 0) this.fills.clear(pn, pn + 1);
      this.setPage(pn, p);
    } else if (p.shared || (this.txOpen && p.tx !== this.txNo)) {
      const q = new Page(pn, p.w.slice(), false, p.tracked);
      q.wGen = p.wGen;
      q.rGen = p.rGen;
      this.setPage(pn, q);
      p = q;
    }
    if (!p.dirty) {
      p.dirty = true;
      this.dirtyPages.push(-pn - 1);
    }
    if (p.tracked && p.wGen !== this.gen) {
      p.wGen = this.gen;
      if (this.nW === this.pendingW.length) this.pendingW = grow(this.pendingW);
      this.pendingW[this.nW++] = pn;
    }
    return p;
  }

  /** The map page at pn for a load; undefined when it reads as zero (after checking the mapping). */
  private readable(pn: number, addr: number): Page | undefined {
    const p = this.lookup(pn);
    if (p !== undefined) {
      if (p.tracked && p.rGen !== this.gen && p.wGen !== this.gen) {
        p.rGen = this.gen;
        this.pushRead(pn);
      }
      return p;
    }
    const kind = this.map.mappingKind(addr, false);
    if (kind === 0) throw new SegvError(addr);
    if (kind === 1 && !this.pendingR.subarray(0, this.nR).includes(pn)) this.pushRead(pn);
    return undefined;
  }

  private pushRead(pn: number): void {
    if (this.nR === this.pendingR.length) this.pendingR = grow(this.pendingR);
    this.pendingR[this.nR++] = pn;
  }

  private pushBulk(write: boolean, addr: number, len: number): void {
    if (write) {
      if (this.nBW + 2 > this.bulkW.length) this.bulkW = grow(this.bulkW);
      this.bulkW[this.nBW++] = addr;
      this.bulkW[this.nBW++] = len;
    } else {
      if (this.nBR + 2 > this.bulkR.length) this.bulkR = grow(this.bulkR);
      this.bulkR[this.nBR++] = addr;
      this.bulkR[this.nBR++] = len;
    }
  }

  private rpage(addr: number): Page | undefined {
    const pn = Math.floor(addr / PAGE_BYTES);
    if (pn === this.rpn) return this.rp;
    const p = this.readable(pn, addr);
    if (p !== undefined) {
      this.rpn = pn;
      this.rp = p;
    }
    return p;
  }

  private wpage(addr: number): Page {
    const pn = Math.floor(addr / PAGE_BYTES);
    if (pn === this.wpn) return this.wp as Page;
    const p = this.writable(pn, addr);
    this.wpn = pn;
    this.wp = p;
    return p;
  }

  /**
   * The uint32 array holding addr (libc's page or the map tier, not the flat tier) for a load,
   * and its index in this.vi; undefined when it reads as zero.
   */
  private rview(addr: number): Uint32Array | undefined {
    const lo = addr - this.lb;
    if (lo >= 0 && lo < PAGE_BYTES) {
      this.vi = lo >>> 2;
      return this.lw;
    }
    const p = this.rpage(addr);
    this.vi = (addr & (PAGE_BYTES - 1)) >>> 2;
    if (p !== undefined) return p.w;
    return this.fillView(addr);
  }

  /** The shared array of the byte a fill extent holds at addr, or undefined (zero). */
  private fillView(addr: number): Uint32Array | undefined {
    if (this.fills.size === 0) return undefined;
    const byte = this.fills.byteAt(Math.floor(addr / PAGE_BYTES));
    return byte > 0 ? this.fillPage(byte) : undefined;
  }

  /** The uint32 array holding addr (not in the flat tier) for a store, and its index (in this.vi). */
  private wview(addr: number): Uint32Array {
    const lo = addr - this.lb;
    if (lo >= 0 && lo < PAGE_BYTES) {
      const b = lo >>> 9;
      if (this.lbGen[b] !== this.gen) this.lWrite(b);
      this.vi = lo >>> 2;
      return this.lw;
    }
    const p = this.wpage(addr);
    this.vi = (addr & (PAGE_BYTES - 1)) >>> 2;
    return p.w;
  }

  /** Index set by rview/wview. */
  private vi = 0;

  // ------------------------------------------------------------------ loads and stores
  //
  // Each has the flat tier's case first and libc's page (main_arena: the bins) second, inline;
  // the map tier is out of line.

  /** The 64-bit word at addr (8-aligned) as a number: exact below 2^53. */
  rd(addr: number): number {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
      const i = off >>> 2;
      return this.flat[i] + this.flat[i + 1] * TWO32;
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) {
      const i = off >>> 2;
      return this.lw[i] + this.lw[i + 1] * TWO32;
    }
    return this.rdMap(addr);
  }

  private rdMap(addr: number): number {
    const w = this.rview(addr);
    if (w === undefined) return 0;
    const i = this.vi;
    return w[i] + w[i + 1] * TWO32;
  }

  /**
   * The word at addr with its low three bits clear (chunksize()). Computed from the halves:
   * `v - (v % 8)` on a number V8 cannot prove small compiles to a call to fmod.
   */
  rdSize(addr: number): number {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
      const i = off >>> 2;
      const lo = this.flat[i];
      return lo - (lo & 7) + this.flat[i + 1] * TWO32;
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) {
      const i = off >>> 2;
      const lo = this.lw[i];
      return lo - (lo & 7) + this.lw[i + 1] * TWO32;
    }
    const w = this.rview(addr);
    if (w === undefined) return 0;
    const lo = w[this.vi];
    return lo - (lo & 7) + w[this.vi + 1] * TWO32;
  }

  rdLo(addr: number): number {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
      return this.flat[off >>> 2];
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) return this.lw[off >>> 2];
    return this.rd32Map(addr);
  }

  rdHi(addr: number): number {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
      return this.flat[(off >>> 2) + 1];
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) return this.lw[(off >>> 2) + 1];
    const w = this.rview(addr);
    return w === undefined ? 0 : w[this.vi + 1];
  }

  /** The halves of the word at addr, in `lo` and `hi` (one lookup for both). */
  rdPair(addr: number): void {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
      const i = off >>> 2;
      this.lo = this.flat[i];
      this.hi = this.flat[i + 1];
      return;
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) {
      const i = off >>> 2;
      this.lo = this.lw[i];
      this.hi = this.lw[i + 1];
      return;
    }
    const w = this.rview(addr);
    if (w === undefined) {
      this.lo = 0;
      this.hi = 0;
    } else {
      this.lo = w[this.vi];
      this.hi = w[this.vi + 1];
    }
  }

  /** Set by rdPair. */
  lo = 0;
  hi = 0;

  /** Stores a non-negative integer below 2^53. */
  wr(addr: number, v: number): void {
    this.wrHalves(addr, v >>> 0, (v / TWO32) >>> 0);
  }

  wrHalves(addr: number, lo: number, hi: number): void {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hbGen[off >>> 9] !== this.gen) this.hWrite(off >>> 9);
      const i = off >>> 2;
      this.flat[i] = lo;
      this.flat[i + 1] = hi;
      return;
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) {
      if (this.lbGen[off >>> 9] !== this.gen) this.lWrite(off >>> 9);
      const i = off >>> 2;
      this.lw[i] = lo;
      this.lw[i + 1] = hi;
      return;
    }
    const w = this.wview(addr);
    const i = this.vi;
    w[i] = lo;
    w[i + 1] = hi;
  }

  /**
   * For a fast path about to load the word at flat offset off: the accounting rd() does (the
   * page's first load in this generation queues a touch).
   */
  noteFlatLoad(off: number): void {
    if (this.hrGen[off >>> 12] !== this.gen) this.hRead(off >>> 12);
  }

  /**
   * For a fast path about to store the word at flat offset off: what wrHalves() does before
   * storing (the block's first store in this generation: touch, journal, dirty mark).
   */
  noteFlatStore(off: number): void {
    if (this.hbGen[off >>> 9] !== this.gen) this.hWrite(off >>> 9);
  }

  /** 32-bit load at a 4-aligned address. */
  rd32(addr: number): number {
    return this.rdLo(addr);
  }

  private rd32Map(addr: number): number {
    const w = this.rview(addr);
    return w === undefined ? 0 : w[this.vi];
  }

  wr32(addr: number, v: number): void {
    let off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hbGen[off >>> 9] !== this.gen) this.hWrite(off >>> 9);
      this.flat[off >>> 2] = v;
      return;
    }
    off = addr - this.lb;
    if (off >= 0 && off < PAGE_BYTES) {
      if (this.lbGen[off >>> 9] !== this.gen) this.lWrite(off >>> 9);
      this.lw[off >>> 2] = v;
      return;
    }
    const w = this.wview(addr);
    w[this.vi] = v;
  }

  /** 16-bit load at a 2-aligned address. */
  rd16(addr: number): number {
    const x = this.rdLo(addr);
    return (addr & 2) === 0 ? x & 0xffff : x >>> 16;
  }

  wr16(addr: number, v: number): void {
    let w: Uint32Array;
    let i: number;
    const off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      if (this.hbGen[off >>> 9] !== this.gen) this.hWrite(off >>> 9);
      w = this.flat;
      i = off >>> 2;
    } else {
      w = this.wview(addr);
      i = this.vi;
    }
    const x = w[i];
    w[i] = (addr & 2) === 0 ? (x & 0xffff0000) | (v & 0xffff) : (x & 0xffff) | ((v & 0xffff) << 16);
  }

  // ------------------------------------------------------------------ inspection (no touches)

  private peekView(addr: number): Uint32Array | undefined {
    const off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      this.vi = off >>> 2;
      return this.flat;
    }
    const lo = addr - this.lb;
    if (lo >= 0 && lo < PAGE_BYTES) {
      this.vi = lo >>> 2;
      return this.lw;
    }
    const p = this.pages.get(Math.floor(addr / PAGE_BYTES));
    this.vi = (addr & (PAGE_BYTES - 1)) >>> 2;
    return p === undefined ? this.fillView(addr) : p.w;
  }

  /** The word at addr without counting a load (inspection, not the simulated program). */
  peek(addr: number): number {
    const w = this.peekView(addr);
    return w === undefined ? 0 : w[this.vi] + w[this.vi + 1] * TWO32;
  }

  peekLo(addr: number): number {
    const w = this.peekView(addr);
    return w === undefined ? 0 : w[this.vi];
  }

  peekHi(addr: number): number {
    const w = this.peekView(addr);
    return w === undefined ? 0 : w[this.vi + 1];
  }

  peek16(addr: number): number {
    const w = this.peekView(addr);
    if (w === undefined) return 0;
    const x = w[this.vi];
    return (addr & 2) === 0 ? x & 0xffff : x >>> 16;
  }

  // ------------------------------------------------------------------ bulk

  private fillPage(byte: number): Uint32Array {
    let a = this.sharedFill[byte];
    if (a === undefined) {
      a = new Uint32Array(U32_PER_PAGE).fill((byte * 0x01010101) >>> 0);
      this.sharedFill[byte] = a;
    }
    return a;
  }

  /** memset(addr, byte, len): a store to every byte; partial words keep their other bytes. */
  fill(addr: number, len: number, byte: number): void {
    if (len <= 0) return;
    byte &= 0xff;
    this.pushBulk(true, addr, len);
    const end = addr + len;
    let a = addr;
    while (a < end) {
      const pn = Math.floor(a / PAGE_BYTES);
      const pageStart = pn * PAGE_BYTES;
      const segEnd = Math.min(end, pageStart + PAGE_BYTES);
      const off = a - this.hb;
      if (off >= 0 && off < this.hlen) {
        this.prepareBlocks(off, segEnd - this.hb);
        const pageOff = off - (a - pageStart);
        fillBytes(this.flat, pageOff, a - pageStart, segEnd - pageStart, byte);
      } else if (a - this.lb >= 0 && a - this.lb < PAGE_BYTES) {
        for (let b = 0; b < 8; b++) this.lWrite(b);
        fillBytes(this.lw, 0, a - pageStart, segEnd - pageStart, byte);
      } else if (a === pageStart && segEnd === pageStart + PAGE_BYTES) {
        // a run of whole map-tier pages, as far as it stays mapped and outside the other tiers
        let runEnd = pageStart + PAGE_BYTES;
        const stop = Math.min(end - (end % PAGE_BYTES), this.hb > pageStart ? this.hb : Infinity, this.lb > pageStart ? this.lb : Infinity);
        if (this.map.mappingKind(a, true) === 0) throw new SegvError(a);
        while (runEnd < stop && this.map.mappingKind(runEnd, true) !== 0) runEnd += PAGE_BYTES;
        this.dropPages(pn, runEnd / PAGE_BYTES);
        this.fills.set(pn, runEnd / PAGE_BYTES, byte);
        a = runEnd;
        continue;
      } else {
        const p = this.writable(pn, a);
        fillBytes(p.w, 0, a - pageStart, segEnd - pageStart, byte);
      }
      a = segEnd;
    }
  }

  /** Drops the materialized map pages of [first, end). */
  private dropPages(first: number, end: number): void {
    if (end - first > this.pages.size) {
      const doomed: number[] = [];
      for (const pn of this.pages.keys()) if (pn >= first && pn < end) doomed.push(pn);
      for (const pn of doomed) this.setPage(pn, undefined);
    } else {
      for (let pn = first; pn < end; pn++) if (this.pages.has(pn)) this.setPage(pn, undefined);
    }
  }

  /** The words of [addr, addr + n) for a bulk load (within one page), or undefined for zeros. */
  private bulkSrc(addr: number): Uint32Array | undefined {
    const off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      this.vi = off >>> 2;
      return this.flat;
    }
    const lo = addr - this.lb;
    if (lo >= 0 && lo < PAGE_BYTES) {
      this.vi = lo >>> 2;
      return this.lw;
    }
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.lookup(pn);
    if (p === undefined && this.map.mappingKind(addr, false) === 0) throw new SegvError(addr);
    this.vi = (addr & (PAGE_BYTES - 1)) >>> 2;
    return p === undefined ? this.fillView(addr) : p.w;
  }

  /** The words of [addr, addr + n) (one page) for a bulk store, prepared; index in this.vi. */
  private bulkDst(addr: number, n: number): Uint32Array {
    const off = addr - this.hb;
    if (off >= 0 && off < this.hlen) {
      this.prepareBlocks(off, off + n);
      this.vi = off >>> 2;
      return this.flat;
    }
    const lo = addr - this.lb;
    if (lo >= 0 && lo < PAGE_BYTES) {
      for (let b = 0; b < 8; b++) this.lWrite(b);
      this.vi = lo >>> 2;
      return this.lw;
    }
    const p = this.writable(Math.floor(addr / PAGE_BYTES), addr);
    this.vi = (addr & (PAGE_BYTES - 1)) >>> 2;
    return p.w;
  }

  /** memcpy(dst, src, len) for 8-aligned dst, src and len (all the allocator copies). */
  copy(dst: number, src: number, len: number): void {
    if (len <= 0) return;
    this.pushBulk(false, src, len);
    this.pushBulk(true, dst, len);
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      const n = Math.min(len - done, PAGE_BYTES - (s & (PAGE_BYTES - 1)), PAGE_BYTES - (d & (PAGE_BYTES - 1)));
      const sw = this.bulkSrc(s);
      const si = this.vi;
      const dpn = Math.floor(d / PAGE_BYTES);
      const inMap = !(d - this.hb >= 0 && d - this.hb < this.hlen) && !(d - this.lb >= 0 && d - this.lb < PAGE_BYTES);
      if (inMap && sw === undefined && this.lookup(dpn) === undefined) {
        if (this.map.mappingKind(d, true) === 0) throw new SegvError(d);
      } else {
        const dw = this.bulkDst(d, n);
        const di = this.vi;
        if (sw === undefined) dw.fill(0, di, di + n / 4);
        else dw.set(sw.subarray(si, si + n / 4), di);
      }
      done += n;
    }
  }

  /** The pages of [addr, addr + len) (page-aligned) read as zero from now on. */
  drop(addr: number, len: number): void {
    const end = addr + len;
    // the flat tier's share
    const f0 = Math.max(addr - this.hb, 0);
    const f1 = Math.min(end - this.hb, this.hlen);
    if (f0 < f1) this.zeroFlat(f0, f1);
    const first = Math.floor(addr / PAGE_BYTES);
    const last = Math.ceil(end / PAGE_BYTES);
    this.fills.clear(first, last);
    this.dropPages(first, last);
  }

  /** mremap: the map pages of [from, from + oldLen) now live at `to`; beyond newLen they are gone. */
  move(from: number, oldLen: number, to: number, newLen: number): void {
    if (from === to) {
      if (newLen < oldLen) this.drop(from + newLen, oldLen - newLen);
      else this.fills.clear(Math.floor((from + oldLen) / PAGE_BYTES), Math.ceil((from + newLen) / PAGE_BYTES));
      return;
    }
    const keep = Math.min(oldLen, newLen);
    const first = Math.floor(from / PAGE_BYTES);
    const n = Math.ceil(oldLen / PAGE_BYTES);
    const moved: Page[] = [];
    for (const [pn, p] of this.pages) if (pn >= first && pn < first + n) moved.push(p);
    moved.sort((x, y) => x.pn - y.pn);
    for (const p of moved) this.setPage(p.pn, undefined);
    const shift = Math.floor(to / PAGE_BYTES) - first;
    this.fills.move(first, n, shift, Math.ceil(keep / PAGE_BYTES));
    for (const p of moved) {
      if ((p.pn - first) * PAGE_BYTES >= keep) continue;
      // Inside a transaction the old page is restored by rollback(), so it must not share its
      // words with the moved one (a store into the moved page would show at the old address).
      const q = new Page(p.pn + shift, this.txOpen ? p.w.slice() : p.w, p.shared, p.tracked);
      q.wGen = p.wGen;
      q.rGen = p.rGen;
      this.setPage(q.pn, q);
    }
  }

  /** A load of [addr, addr + len) that changes nothing the allocator keeps. */
  noteRead(addr: number, len: number): void {
    if (len > 0) this.pushBulk(false, addr, len);
  }

  /** A store that changes nothing the allocator keeps. */
  noteWrite(addr: number, len: number): void {
    if (len > 0) this.pushBulk(true, addr, len);
  }

  // ------------------------------------------------------------------ touches

  get hasPendingTouches(): boolean {
    return this.nW + this.nR + this.nBW + this.nBR > 0;
  }

  /** Reports the loads and stores since the last flush to `sys`: pages first, then bulk ranges. */
  flush(sys: HeapSys): void {
    const w = this.pendingW, r = this.pendingR, bw = this.bulkW, br = this.bulkR;
    for (let i = 0; i < this.nW; i++) sys.write(w[i] * PAGE_BYTES, PAGE_BYTES);
    for (let i = 0; i < this.nR; i++) sys.read(r[i] * PAGE_BYTES, PAGE_BYTES);
    for (let i = 0; i < this.nBW; i += 2) sys.write(bw[i], bw[i + 1]);
    for (let i = 0; i < this.nBR; i += 2) sys.read(br[i], br[i + 1]);
    this.nW = this.nR = this.nBW = this.nBR = 0;
    if (!this.persistTouches) this.newGen();
  }

  /** Forgets queued touches (a call that is being thrown away). */
  discardTouches(): void {
    this.nW = this.nR = this.nBW = this.nBR = 0;
    this.newGen();
  }

  // ------------------------------------------------------------------ transactions

  begin(): void {
    if (this.txOpen) throw new Error('WordMemory: transaction already open');
    this.txOpen = true;
    this.txNo++;
    this.fills.begin();
    this.newGen();
  }

  commit(): void {
    this.txOpen = false;
    this.fills.commit();
    this.journal.length = 0;
    this.newGen();
  }

  rollback(): void {
    this.txOpen = false;
    this.fills.rollback();
    const j = this.journal;
    for (let i = j.length - 1; i >= 0; i--) {
      const e = j[i];
      switch (e.t) {
        case 'flat':
          this.flat.set(e.data, e.blk * U32_PER_BLOCK);
          if (this.hDirty[e.blk] === 0) {
            this.hDirty[e.blk] = 1;
            this.dirtyPages.push(this.hb / BLOCK_BYTES + e.blk);
          }
          break;
        case 'flatRange':
          this.flat.set(e.data, e.at);
          this.markBlocksDirty(e.at * 4, (e.at + e.data.length) * 4);
          break;
        case 'flatLen':
          if (e.len > this.hlen) this.ensureFlat(e.len);
          this.hlen = e.len;
          break;
        case 'libc':
          this.lw.set(e.data, e.blk * U32_PER_BLOCK);
          if (!this.lDirty) {
            this.lDirty = true;
            this.dirtyPages.push(-(this.lb / PAGE_BYTES) - 1);
          }
          break;
        case 'page': {
          const { pn, old } = e;
          if (old === undefined) this.pages.delete(pn);
          else this.pages.set(pn, old);
          const c = pn & (CACHE_SLOTS - 1);
          if (this.cacheKey[c] === pn) this.cacheKey[c] = -1;
          if (old !== undefined) old.dirty = false;
          this.markDirty(pn, old);
          break;
        }
      }
    }
    j.length = 0;
    this.discardTouches();
  }

  get inTransaction(): boolean {
    return this.txOpen;
  }

  // ------------------------------------------------------------------ hashing

  /** Folds the blocks and pages changed since the last call into the running sum and returns it. */
  digest(): AddHash {
    this.newGen();
    const d = this.dirtyPages;
    const hbBlk = this.hb / BLOCK_BYTES;
    const lbPn = this.lb / PAGE_BYTES;
    for (let i = 0; i < d.length; i++) {
      const key = d[i];
      const old = this.pageDigest.get(key);
      if (old !== undefined) {
        this.sum.remove(key, old);
        this.pageDigest.delete(key);
      }
      let h = 0;
      if (key >= 0) {
        const b = key - hbBlk;
        if (b < 0 || b >= this.hDirty.length) continue;
        this.hDirty[b] = 0;
        // a block beyond the break holds zeros (digest 0) until the break grows over it again
        if (b * BLOCK_BYTES >= this.hlen) continue;
        h = hashWords(this.flat, b * U32_PER_BLOCK, U32_PER_BLOCK);
      } else {
        const pn = -key - 1;
        if (pn === lbPn) {
          this.lDirty = false;
          h = hashWords(this.lw, 0, U32_PER_PAGE);
        } else {
          const p = this.pages.get(pn);
          if (p === undefined) continue;
          p.dirty = false;
          h = hashWords(p.w, 0, U32_PER_PAGE);
        }
      }
      if (h !== 0) {
        this.pageDigest.set(key, h);
        this.sum.add(key, h);
      }
    }
    d.length = 0;
    if (this.fills.dirty) {
      const old = this.pageDigest.get(FILLS_KEY);
      if (old !== undefined) this.sum.remove(FILLS_KEY, old);
      const h = this.fills.hash();
      this.pageDigest.set(FILLS_KEY, h);
      this.sum.add(FILLS_KEY, h);
    }
    return this.sum;
  }

  /** Pages holding anything (materialized map pages plus the flat tier's pages). */
  get pageCount(): number {
    return this.pages.size + Math.ceil(this.hlen / PAGE_BYTES) + 1;
  }
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** Stores `byte` into bytes [from, to) of the page starting at byte `base` of w. */
function fillBytes(w: Uint32Array, base: number, from: number, to: number, byte: number): void {
  const word = (byte * 0x01010101) >>> 0;
  let b = from;
  while (b < to && (b & 3) !== 0) {
    setByte(w, base + b, byte);
    b++;
  }
  const wholeEnd = to - (to & 3);
  if (b < wholeEnd) {
    w.fill(word, (base + b) >>> 2, (base + wholeEnd) >>> 2);
    b = wholeEnd;
  }
  while (b < to) {
    setByte(w, base + b, byte);
    b++;
  }
}

function setByte(w: Uint32Array, b: number, byte: number): void {
  const i = b >>> 2;
  const sh = (b & 3) * 8;
  w[i] = ((w[i] & ~(0xff << sh)) | (byte << sh)) >>> 0;
}

/**
 * A 52-bit digest of n words from index `at`, 0 when they are all zero. Each nonzero
 * word is mixed with its position and the mixes are summed in two lanes, then finalized.
 */
function hashWords(w: Uint32Array, at: number, n: number): number {
  let a = 0;
  let b = 0;
  let any = 0;
  for (let i = 0; i < n; i++) {
    const x = w[at + i];
    any |= x;
    const y = Math.imul(x ^ Math.imul(i + 1, 0x9e3779b1), 0x85ebca6b);
    a = (a + (y ^ (y >>> 15))) | 0;
    b = (b + Math.imul(y, 0xc2b2ae35)) | 0;
  }
  if (any === 0) return 0;
  return fmix32(a) + (fmix32(b ^ a) & 0xfffff) * TWO32;
}
