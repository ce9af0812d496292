// An in-process address space that answers the allocator's system calls for trace replays,
// benches and tests: brk, top-down mmap placement below mmap_base, munmap, mremap, mprotect,
// madvise, and mincore-like residency (a page is resident once stored to or loaded from,
// until munmap, MADV_DONTNEED or a brk shrink drops it). vm/ is the full model; this is the
// least a replay needs, with no limits unless given.
import { EINVAL, ENOMEM, MAP_FIXED, MREMAP_MAYMOVE, type HeapSys, type SyscallRecord } from '../../contracts/heap-sys.js';

const PAGE = 4096;
const MADV_DONTNEED = 4;

export interface LocalSysOptions {
  /** The initial program break. */
  readonly brkStart: number;
  /** Where top-down mmap placement starts (default 0x7f0000000000). */
  readonly mmapBase?: number;
  /** Largest break brk() will grant (default: unlimited below the mmap area). */
  readonly brkLimit?: number;
  /**
   * The most one brk growth or mmap may ask for (the kernel's overcommit heuristic refuses a
   * request larger than RAM + swap). Default 64 GiB; the oracle traces were recorded on a
   * 24 GiB machine without swap, where a realloc of 2^50 bytes fails.
   */
  readonly maxRequest?: number;
  /** Fail every mmap (to exercise glibc's fallbacks). */
  readonly failMmap?: boolean;
  /** Record every system call in `log`. */
  readonly record?: boolean;
}

interface Vma {
  start: number;
  end: number;
}

/** Resident page numbers outside the brk area, as sorted, merged [first, end) runs. */
class PageRuns {
  private s: number[] = [];
  private e: number[] = [];

  /** The index of the first run ending after pn. */
  private after(pn: number): number {
    let lo = 0, hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.e[mid] <= pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(pn: number): boolean {
    const i = this.after(pn);
    return i < this.s.length && this.s[i] <= pn;
  }

  add(first: number, end: number): void {
    let i = this.after(first - 1);
    // runs that touch or overlap [first, end) merge into one
    let a = first, z = end;
    let j = i;
    while (j < this.s.length && this.s[j] <= end) {
      a = Math.min(a, this.s[j]);
      z = Math.max(z, this.e[j]);
      j++;
    }
    if (i > 0 && this.e[i - 1] === first) {
      i--;
      a = this.s[i];
    }
    this.s.splice(i, j - i, a);
    this.e.splice(i, j - i, z);
  }

  remove(first: number, end: number): void {
    const i = this.after(first);
    let j = i;
    const ns: number[] = [], ne: number[] = [];
    while (j < this.s.length && this.s[j] < end) {
      if (this.s[j] < first) ns.push(this.s[j]), ne.push(first);
      if (this.e[j] > end) ns.push(end), ne.push(this.e[j]);
      j++;
    }
    this.s.splice(i, j - i, ...ns);
    this.e.splice(i, j - i, ...ne);
  }

  /** Pages of [first, end) in some run. */
  count(first: number, end: number): number {
    let n = 0;
    for (let i = this.after(first); i < this.s.length && this.s[i] < end; i++) n += Math.min(end, this.e[i]) - Math.max(first, this.s[i]);
    return n;
  }
}

export class LocalSys implements HeapSys {
  readonly brkStart: number;
  private cur: number;
  private readonly mmapBase: number;
  private vmas: Vma[] = [];
  readonly log: SyscallRecord[] = [];

  // residency: a bitmap over the brk area, a set elsewhere
  private readonly brkPn0: number;
  private brkBits = new Uint8Array(1024);
  private readonly other = new PageRuns();
  private lastPn = -1;

  constructor(private readonly opts: LocalSysOptions) {
    this.brkStart = opts.brkStart;
    this.cur = opts.brkStart;
    this.mmapBase = opts.mmapBase ?? 0x7f0000000000;
    this.brkPn0 = Math.floor(opts.brkStart / PAGE);
  }

  get brkCurrent(): number {
    return this.cur;
  }

  // ------------------------------------------------------------------ residency

  private inBrkArea(pn: number): boolean {
    return pn >= this.brkPn0 && pn * PAGE < this.mmapFloor();
  }

  /** Marks pages [first, end) resident. */
  private setResident(first: number, end: number): void {
    if (this.inBrkArea(first) && this.inBrkArea(end - 1)) {
      const hi = end - this.brkPn0;
      if (hi > this.brkBits.length) {
        const b = new Uint8Array(Math.max(this.brkBits.length * 2, hi));
        b.set(this.brkBits);
        this.brkBits = b;
      }
      this.brkBits.fill(1, first - this.brkPn0, hi);
    } else this.other.add(first, end);
  }

  private isResident(pn: number): boolean {
    if (this.inBrkArea(pn)) {
      const i = pn - this.brkPn0;
      return i < this.brkBits.length && this.brkBits[i] === 1;
    }
    return this.other.has(pn);
  }

  /** Addresses below this belong to the brk area's bitmap (64 GiB above the start). */
  private mmapFloor(): number {
    return this.brkStart + 2 ** 36;
  }

  private touch(addr: number, length: number): void {
    if (length <= 0) return;
    const first = Math.floor(addr / PAGE);
    const last = Math.floor((addr + length - 1) / PAGE);
    if (first === last && first === this.lastPn) return;
    this.setResident(first, last + 1);
    this.lastPn = last;
  }

  private dropRange(addr: number, length: number): void {
    const first = Math.floor(addr / PAGE);
    const last = Math.ceil((addr + length) / PAGE);
    this.other.remove(first, last);
    const lo = Math.max(0, first - this.brkPn0), hi = Math.min(this.brkBits.length, last - this.brkPn0);
    if (lo < hi) this.brkBits.fill(0, lo, hi);
    this.lastPn = -1;
  }

  write(addr: number, length: number): void {
    this.touch(addr, length);
  }

  read(addr: number, length: number): void {
    this.touch(addr, length);
  }

  /** mincore: resident pages of [addr, addr + length), rounded out to pages as heapprog-run does. */
  residentPages(addr: number, length: number): number {
    const a = Math.floor(addr / PAGE);
    const n = Math.ceil((addr + length - a * PAGE) / PAGE);
    if (!this.inBrkArea(a)) return this.other.count(a, a + n);
    let r = 0;
    for (let pn = a; pn < a + n; pn++) if (this.isResident(pn)) r++;
    return r;
  }

  // ------------------------------------------------------------------ system calls

  private rec(call: SyscallRecord['call'], result: number): number {
    if (this.opts.record) this.log.push({ call, result });
    return result;
  }

  private get maxRequest(): number {
    return this.opts.maxRequest ?? 2 ** 36;
  }

  brk(addr: number): number {
    let r = this.cur;
    if (addr !== 0 && addr >= this.brkStart && (this.opts.brkLimit === undefined || addr <= this.opts.brkLimit)) {
      const newEnd = Math.ceil(addr / PAGE) * PAGE;
      const oldEnd = Math.ceil(this.cur / PAGE) * PAGE;
      if (newEnd <= oldEnd || (newEnd - oldEnd <= this.maxRequest && newEnd <= this.mmapBase && this.isFree(oldEnd, newEnd - oldEnd))) {
        if (newEnd < oldEnd) this.dropRange(newEnd, oldEnd - newEnd);
        this.cur = addr;
        r = addr;
      }
    }
    return this.rec({ nr: 'brk', addr }, r);
  }

  private isFree(start: number, len: number): boolean {
    const end = start + len;
    return !this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** The highest free gap of `len` below mmap_base and above the break (top-down placement). */
  private place(len: number): number {
    let hi = this.mmapBase;
    const sorted = this.vmas;
    for (let i = sorted.length - 1; i >= -1; i--) {
      const v = i >= 0 ? sorted[i] : { start: 0, end: 0 };
      if (v.start >= hi) continue;
      const gapLo = Math.max(v.end, Math.ceil(this.cur / PAGE) * PAGE);
      if (hi - len >= gapLo) return hi - len;
      hi = Math.min(hi, v.start);
    }
    return -ENOMEM;
  }

  private insert(start: number, end: number): void {
    this.vmas.push({ start, end });
    this.vmas.sort((x, y) => x.start - y.start);
  }

  private remove(start: number, end: number): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= start || v.start >= end) out.push(v);
      else {
        if (v.start < start) out.push({ start: v.start, end: start });
        if (v.end > end) out.push({ start: end, end: v.end });
      }
    }
    this.vmas = out;
  }

  mmap(addr: number, length: number, prot: number, flags: number): number {
    const call = { nr: 'mmap' as const, addr, length, prot, flags };
    if (length <= 0) return this.rec(call, -EINVAL);
    if (this.opts.failMmap || length > this.maxRequest) return this.rec(call, -ENOMEM);
    const len = Math.ceil(length / PAGE) * PAGE;
    let at: number;
    if ((flags & MAP_FIXED) !== 0) {
      at = addr;
      this.remove(at, at + len);
      this.dropRange(at, len);
    } else if (addr !== 0 && addr % PAGE === 0 && this.isFree(addr, len) && addr + len <= this.mmapBase) {
      at = addr;
    } else {
      at = this.place(len);
      if (at < 0) return this.rec(call, at);
    }
    this.insert(at, at + len);
    return this.rec(call, at);
  }

  munmap(addr: number, length: number): number {
    const len = Math.ceil(length / PAGE) * PAGE;
    this.remove(addr, addr + len);
    this.dropRange(addr, len);
    return this.rec({ nr: 'munmap', addr, length }, 0);
  }

  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number): number {
    const call = { nr: 'mremap' as const, oldAddr, oldSize, newSize, flags };
    const oldLen = Math.ceil(oldSize / PAGE) * PAGE;
    const newLen = Math.ceil(newSize / PAGE) * PAGE;
    if (newLen <= oldLen) {
      this.remove(oldAddr + newLen, oldAddr + oldLen);
      this.dropRange(oldAddr + newLen, oldLen - newLen);
      return this.rec(call, oldAddr);
    }
    if (newLen - oldLen > this.maxRequest) return this.rec(call, -ENOMEM);
    if (this.isFree(oldAddr + oldLen, newLen - oldLen) && oldAddr + newLen <= this.mmapBase) {
      this.remove(oldAddr, oldAddr + oldLen);
      this.insert(oldAddr, oldAddr + newLen);
      return this.rec(call, oldAddr);
    }
    if ((flags & MREMAP_MAYMOVE) === 0) return this.rec(call, -ENOMEM);
    this.remove(oldAddr, oldAddr + oldLen);
    const at = this.place(newLen);
    if (at < 0) {
      this.insert(oldAddr, oldAddr + oldLen);
      return this.rec(call, at);
    }
    this.insert(at, at + newLen);
    // the pages move with their contents
    const moved: number[] = [];
    const first = Math.floor(oldAddr / PAGE);
    for (let k = 0; k < oldLen / PAGE; k++) if (this.isResident(first + k)) moved.push(k);
    this.dropRange(oldAddr, oldLen);
    const to = Math.floor(at / PAGE);
    for (const k of moved) this.setResident(to + k, to + k + 1);
    return this.rec(call, at);
  }

  mprotect(addr: number, length: number, prot: number): number {
    return this.rec({ nr: 'mprotect', addr, length, prot }, 0);
  }

  madvise(addr: number, length: number, advice: number): number {
    if (advice === MADV_DONTNEED) this.dropRange(addr, Math.ceil(length / PAGE) * PAGE);
    return this.rec({ nr: 'madvise', addr, length, advice }, 0);
  }
}
