// The simulated process's memory as glibc's allocator sees it: 64-bit words in 4 KiB pages.
//
// Every load and store the allocator makes goes through here, so stale headers, footers,
// mangled tcache links and whatever the program stored are where glibc would find them, and
// a corrupted heap fails with the message glibc gives. A word is two uint32 halves (x86-64 is
// little-endian: byte k of a word is byte k of `lo` for k < 4, of `hi` otherwise), so values
// above 2^53 (tcache_key, a program's 0xa5 fill) are kept exactly.
//
// A page that was never stored to, or was dropped (munmap, MADV_DONTNEED, brk shrink), is
// absent and reads as zero. A page the program filled entirely with one byte shares one
// read-only array until glibc stores into it.
//
// Three more jobs ride on the page objects:
//  - touches: the first load and the first store of each page in a call are queued, and
//    flush() reports them to the HeapSys before each system call and at the end of the call;
//  - transactions: inside begin()/commit() a page is cloned before its first change and the
//    original kept in the journal, so rollback() puts back the originals (no cost outside);
//  - hashing: a page changed since the last digest() is re-hashed then, and the sum of page
//    digests (AddHash) stands for the whole memory.
import { AddHash, fmix32 } from '../../common/hash.js';
import type { HeapSys } from '../../contracts/heap-sys.js';

export const PAGE_BYTES = 4096;
const U32_PER_PAGE = 1024;
const CACHE_SLOTS = 256;
const TWO32 = 4294967296;

/** A load or store at an address nothing is mapped at: the process gets SIGSEGV. */
export class SegvError {
  readonly name = 'SegvError';
  constructor(readonly addr: number) {}
}

export class Page {
  wEpoch = 0;
  rEpoch = 0;
  txEpoch = 0;
  dirty = false;
  constructor(
    readonly pn: number,
    public w: Uint32Array,
    public shared: boolean,
    readonly tracked: boolean,
  ) {}
}

/** Decides whether an address is mapped, and whether its touches are reported. */
export interface AddressMap {
  /** 0: not mapped (SIGSEGV); 1: mapped, touches reported; 2: mapped, not reported (libc's own data). */
  mappingKind(addr: number, write: boolean): 0 | 1 | 2;
}

interface PageOp {
  readonly pn: number;
  readonly old: Page | undefined;
}

export class WordMemory {
  private readonly pages = new Map<number, Page>();
  private readonly cacheKey = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cachePage: (Page | undefined)[] = new Array<Page | undefined>(CACHE_SLOTS).fill(undefined);
  private readonly sharedFill: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(256).fill(undefined);

  // touches since the last flush
  private epoch = 1;
  private readonly pendingW: number[] = [];
  private readonly pendingR: number[] = [];
  private readonly bulkW: number[] = [];
  private readonly bulkR: number[] = [];

  // transaction journal
  private txOpen = false;
  private txEpoch = 1;
  private readonly journal: PageOp[] = [];

  // hashing
  private readonly dirtyPages: number[] = [];
  private readonly pageDigest = new Map<number, number>();
  private readonly sum = new AddHash();

  constructor(private readonly map: AddressMap) {}

  // ------------------------------------------------------------------ pages

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
    const old = this.pages.get(pn);
    if (this.txOpen) this.journal.push({ pn, old });
    if (p === undefined) this.pages.delete(pn);
    else {
      this.pages.set(pn, p);
      if (this.txOpen) p.txEpoch = this.txEpoch;
    }
    const i = pn & (CACHE_SLOTS - 1);
    if (this.cacheKey[i] === pn) this.cachePage[i] = p;
    if (p === undefined && this.cacheKey[i] === pn) this.cacheKey[i] = -1;
    this.markDirty(pn, p);
  }

  private markDirty(pn: number, p: Page | undefined): void {
    if (p === undefined || !p.dirty) {
      if (p !== undefined) p.dirty = true;
      this.dirtyPages.push(pn);
    }
  }

  /** The page at pn, ready to be stored into (materialized, private, journaled). */
  private writable(pn: number, addr: number): Page {
    let p = this.lookup(pn);
    if (p === undefined) {
      const kind = this.map.mappingKind(addr, true);
      if (kind === 0) throw new SegvError(addr);
      p = new Page(pn, new Uint32Array(U32_PER_PAGE), false, kind === 1);
      this.setPage(pn, p);
    } else if (p.shared || (this.txOpen && p.txEpoch !== this.txEpoch)) {
      const q = new Page(pn, p.w.slice(), false, p.tracked);
      q.wEpoch = p.wEpoch;
      q.rEpoch = p.rEpoch;
      this.setPage(pn, q);
      p = q;
    }
    if (!p.dirty) {
      p.dirty = true;
      this.dirtyPages.push(pn);
    }
    if (p.tracked && p.wEpoch !== this.epoch) {
      p.wEpoch = this.epoch;
      this.pendingW.push(pn);
    }
    return p;
  }

  /** The page at pn for a load; undefined when it reads as zero (after checking the mapping). */
  private readable(pn: number, addr: number): Page | undefined {
    const p = this.lookup(pn);
    if (p !== undefined) {
      if (p.tracked && p.rEpoch !== this.epoch && p.wEpoch !== this.epoch) {
        p.rEpoch = this.epoch;
        this.pendingR.push(pn);
      }
      return p;
    }
    const kind = this.map.mappingKind(addr, false);
    if (kind === 0) throw new SegvError(addr);
    if (kind === 1 && !this.pendingR.includes(pn)) this.pendingR.push(pn);
    return undefined;
  }

  // ------------------------------------------------------------------ loads and stores

  /** The 64-bit word at addr (8-aligned) as a number: exact below 2^53. */
  rd(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.readable(pn, addr);
    if (p === undefined) return 0;
    const o = (addr - pn * PAGE_BYTES) >>> 2;
    return p.w[o] + p.w[o + 1] * TWO32;
  }

  rdLo(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.readable(pn, addr);
    return p === undefined ? 0 : p.w[(addr - pn * PAGE_BYTES) >>> 2];
  }

  rdHi(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.readable(pn, addr);
    return p === undefined ? 0 : p.w[((addr - pn * PAGE_BYTES) >>> 2) + 1];
  }

  /** Stores a non-negative integer below 2^53. */
  wr(addr: number, v: number): void {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.writable(pn, addr);
    const o = (addr - pn * PAGE_BYTES) >>> 2;
    p.w[o] = v >>> 0;
    p.w[o + 1] = (v / TWO32) >>> 0;
  }

  wrHalves(addr: number, lo: number, hi: number): void {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.writable(pn, addr);
    const o = (addr - pn * PAGE_BYTES) >>> 2;
    p.w[o] = lo;
    p.w[o + 1] = hi;
  }

  /** 32-bit load at a 4-aligned address. */
  rd32(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.readable(pn, addr);
    return p === undefined ? 0 : p.w[(addr - pn * PAGE_BYTES) >>> 2];
  }

  wr32(addr: number, v: number): void {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.writable(pn, addr);
    p.w[(addr - pn * PAGE_BYTES) >>> 2] = v >>> 0;
  }

  /** 16-bit load at a 2-aligned address. */
  rd16(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.readable(pn, addr);
    if (p === undefined) return 0;
    const off = addr - pn * PAGE_BYTES;
    const x = p.w[off >>> 2];
    return (off & 2) === 0 ? x & 0xffff : x >>> 16;
  }

  wr16(addr: number, v: number): void {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.writable(pn, addr);
    const off = addr - pn * PAGE_BYTES;
    const i = off >>> 2;
    const x = p.w[i];
    p.w[i] = (off & 2) === 0 ? ((x & 0xffff0000) | (v & 0xffff)) >>> 0 : ((x & 0xffff) | ((v & 0xffff) << 16)) >>> 0;
  }

  /** The word at addr without counting a load (inspection, not the simulated program). */
  peek(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.pages.get(pn);
    if (p === undefined) return 0;
    const o = (addr - pn * PAGE_BYTES) >>> 2;
    return p.w[o] + p.w[o + 1] * TWO32;
  }

  peekLo(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.pages.get(pn);
    return p === undefined ? 0 : p.w[(addr - pn * PAGE_BYTES) >>> 2];
  }

  peek16(addr: number): number {
    const pn = Math.floor(addr / PAGE_BYTES);
    const p = this.pages.get(pn);
    if (p === undefined) return 0;
    const off = addr - pn * PAGE_BYTES;
    const x = p.w[off >>> 2];
    return (off & 2) === 0 ? x & 0xffff : x >>> 16;
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

  /**
   * memset(addr, byte, len): a store to every byte. Whole pages are replaced (a zero page by
   * absence, another byte by a shared page); partial words keep their other bytes.
   */
  fill(addr: number, len: number, byte: number): void {
    if (len <= 0) return;
    byte &= 0xff;
    this.bulkW.push(addr, len);
    const end = addr + len;
    let a = addr;
    while (a < end) {
      const pn = Math.floor(a / PAGE_BYTES);
      const pageStart = pn * PAGE_BYTES;
      const segEnd = Math.min(end, pageStart + PAGE_BYTES);
      if (a === pageStart && segEnd === pageStart + PAGE_BYTES) {
        const kind = this.map.mappingKind(a, true);
        if (kind === 0) throw new SegvError(a);
        const cur = this.lookup(pn);
        if (byte === 0) {
          if (cur !== undefined) this.setPage(pn, undefined);
          else this.markDirty(pn, undefined);
        } else {
          const p = new Page(pn, this.fillPage(byte), true, kind === 1);
          if (cur !== undefined) {
            p.wEpoch = cur.wEpoch;
            p.rEpoch = cur.rEpoch;
          }
          this.setPage(pn, p);
        }
      } else {
        const p = this.writable(pn, a);
        fillBytes(p.w, a - pageStart, segEnd - pageStart, byte);
      }
      a = segEnd;
    }
  }

  /** memcpy(dst, src, len) for 8-aligned dst, src and len (all the allocator copies). */
  copy(dst: number, src: number, len: number): void {
    if (len <= 0) return;
    this.bulkR.push(src, len);
    this.bulkW.push(dst, len);
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      const spn = Math.floor(s / PAGE_BYTES);
      const dpn = Math.floor(d / PAGE_BYTES);
      const sOff = s - spn * PAGE_BYTES;
      const dOff = d - dpn * PAGE_BYTES;
      const n = Math.min(len - done, PAGE_BYTES - sOff, PAGE_BYTES - dOff);
      const sp = this.lookup(spn);
      if (sp === undefined && this.map.mappingKind(s, false) === 0) throw new SegvError(s);
      if (n === PAGE_BYTES) {
        // whole page to whole page
        const kind = this.map.mappingKind(d, true);
        if (kind === 0) throw new SegvError(d);
        if (sp === undefined) {
          if (this.lookup(dpn) !== undefined) this.setPage(dpn, undefined);
        } else {
          this.setPage(dpn, new Page(dpn, sp.shared ? sp.w : sp.w.slice(), sp.shared, kind === 1));
        }
      } else if (sp === undefined) {
        if (this.lookup(dpn) !== undefined) {
          const dp = this.writable(dpn, d);
          dp.w.fill(0, dOff >>> 2, (dOff + n) >>> 2);
        } else if (this.map.mappingKind(d, true) === 0) throw new SegvError(d);
      } else {
        const dp = this.writable(dpn, d);
        dp.w.set(sp.w.subarray(sOff >>> 2, (sOff + n) >>> 2), dOff >>> 2);
      }
      done += n;
    }
  }

  /** The pages of [addr, addr + len) (page-aligned) read as zero from now on. */
  drop(addr: number, len: number): void {
    const first = Math.floor(addr / PAGE_BYTES);
    const last = Math.ceil((addr + len) / PAGE_BYTES);
    if (last - first > this.pages.size) {
      const doomed: number[] = [];
      for (const pn of this.pages.keys()) if (pn >= first && pn < last) doomed.push(pn);
      for (const pn of doomed) this.setPage(pn, undefined);
    } else {
      for (let pn = first; pn < last; pn++) if (this.pages.has(pn)) this.setPage(pn, undefined);
    }
  }

  /** mremap: the pages of [from, from + oldLen) now live at `to`; beyond newLen they are gone. */
  move(from: number, oldLen: number, to: number, newLen: number): void {
    if (from === to) {
      if (newLen < oldLen) this.drop(from + newLen, oldLen - newLen);
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
    for (const p of moved) {
      if ((p.pn - first) * PAGE_BYTES >= keep) continue;
      const q = new Page(p.pn + shift, p.w, p.shared, p.tracked);
      q.wEpoch = p.wEpoch;
      q.rEpoch = p.rEpoch;
      this.setPage(q.pn, q);
    }
  }

  /** A load of [addr, addr + len) by a bulk copy the allocator does not model word by word. */
  noteRead(addr: number, len: number): void {
    if (len > 0) this.bulkR.push(addr, len);
  }

  /** A store the program made (it does not change what glibc reads unless it overlaps metadata). */
  noteWrite(addr: number, len: number): void {
    if (len > 0) this.bulkW.push(addr, len);
  }

  // ------------------------------------------------------------------ touches

  get hasPendingTouches(): boolean {
    return this.pendingW.length + this.pendingR.length + this.bulkW.length + this.bulkR.length > 0;
  }

  /** Reports the loads and stores since the last flush to `sys`, pages first, then bulk ranges. */
  flush(sys: HeapSys): void {
    const w = this.pendingW, r = this.pendingR, bw = this.bulkW, br = this.bulkR;
    for (let i = 0; i < w.length; i++) sys.write(w[i] * PAGE_BYTES, PAGE_BYTES);
    for (let i = 0; i < r.length; i++) sys.read(r[i] * PAGE_BYTES, PAGE_BYTES);
    for (let i = 0; i < bw.length; i += 2) sys.write(bw[i], bw[i + 1]);
    for (let i = 0; i < br.length; i += 2) sys.read(br[i], br[i + 1]);
    w.length = 0;
    r.length = 0;
    bw.length = 0;
    br.length = 0;
    this.epoch++;
  }

  /** Forgets queued touches (a call that is being thrown away). */
  discardTouches(): void {
    this.pendingW.length = 0;
    this.pendingR.length = 0;
    this.bulkW.length = 0;
    this.bulkR.length = 0;
    this.epoch++;
  }

  // ------------------------------------------------------------------ transactions

  begin(): void {
    if (this.txOpen) throw new Error('WordMemory: transaction already open');
    this.txOpen = true;
    this.txEpoch++;
  }

  commit(): void {
    this.txOpen = false;
    this.journal.length = 0;
  }

  rollback(): void {
    this.txOpen = false;
    const j = this.journal;
    for (let i = j.length - 1; i >= 0; i--) {
      const { pn, old } = j[i];
      if (old === undefined) this.pages.delete(pn);
      else this.pages.set(pn, old);
      const c = pn & (CACHE_SLOTS - 1);
      if (this.cacheKey[c] === pn) this.cacheKey[c] = -1;
      if (old !== undefined) old.dirty = false;
      this.markDirty(pn, old);
    }
    j.length = 0;
    this.discardTouches();
  }

  get inTransaction(): boolean {
    return this.txOpen;
  }

  // ------------------------------------------------------------------ hashing and inspection

  /** Folds the pages changed since the last call into the running sum and returns it. */
  digest(): AddHash {
    const d = this.dirtyPages;
    for (let i = 0; i < d.length; i++) {
      const pn = d[i];
      const old = this.pageDigest.get(pn);
      if (old !== undefined) {
        this.sum.remove(pn, old);
        this.pageDigest.delete(pn);
      }
      const p = this.pages.get(pn);
      if (p === undefined) continue;
      p.dirty = false;
      const h = hashPage(p.w);
      if (h !== 0) {
        this.pageDigest.set(pn, h);
        this.sum.add(pn, h);
      }
    }
    d.length = 0;
    return this.sum;
  }

  get pageCount(): number {
    return this.pages.size;
  }
}

/** Stores `byte` into bytes [from, to) of a page's uint32 array. */
function fillBytes(w: Uint32Array, from: number, to: number, byte: number): void {
  const word = (byte * 0x01010101) >>> 0;
  let b = from;
  while (b < to && (b & 3) !== 0) {
    setByte(w, b, byte);
    b++;
  }
  const wholeEnd = to - (to & 3);
  if (b < wholeEnd) {
    w.fill(word, b >>> 2, wholeEnd >>> 2);
    b = wholeEnd;
  }
  while (b < to) {
    setByte(w, b, byte);
    b++;
  }
}

function setByte(w: Uint32Array, b: number, byte: number): void {
  const i = b >>> 2;
  const sh = (b & 3) * 8;
  w[i] = ((w[i] & ~(0xff << sh)) | (byte << sh)) >>> 0;
}

/** A 52-bit digest of a page's nonzero words, 0 for an all-zero page. */
function hashPage(w: Uint32Array): number {
  let a = 0x9e3779b9;
  let b = 0x7f4a7c15;
  let any = false;
  for (let i = 0; i < U32_PER_PAGE; i++) {
    const x = w[i];
    if (x === 0) continue;
    any = true;
    a = fmix32((a ^ x) + Math.imul(i + 1, 0x85ebca6b));
    b = fmix32(b + Math.imul(x ^ i, 0xcc9e2d51));
  }
  if (!any) return 0;
  return (a >>> 0) + (b & 0xfffff) * TWO32;
}
