// Runs of whole pages a program filled with one byte (its stores into an mmapped chunk are
// usually whole megabytes), kept as sorted, non-overlapping [first page, end page) extents
// instead of one array per page. A page in an extent reads as its byte; glibc's first store
// into one turns that page back into an ordinary page.
import { StateHasher } from '../../common/hash.js';

export class FillExtents {
  private s: number[] = [];
  private e: number[] = [];
  private b: number[] = [];
  private saved: [number[], number[], number[]] | undefined;
  private txOpen = false;
  /** Changed since the last hash(). */
  dirty = false;

  get size(): number {
    return this.s.length;
  }

  /** The extent index holding page pn, or -1. */
  private find(pn: number): number {
    let lo = 0, hi = this.s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pn < this.s[mid]) hi = mid - 1;
      else if (pn >= this.e[mid]) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The byte page pn is filled with, or -1 when no extent holds it. */
  byteAt(pn: number): number {
    if (this.s.length === 0) return -1;
    const i = this.find(pn);
    return i < 0 ? -1 : this.b[i];
  }

  private touch(): void {
    this.dirty = true;
    if (this.txOpen && this.saved === undefined) this.saved = [this.s.slice(), this.e.slice(), this.b.slice()];
  }

  /** Pages [first, end) no longer belong to any extent. */
  clear(first: number, end: number): void {
    if (this.s.length === 0 || first >= end) return;
    let any = false;
    for (let i = 0; i < this.s.length; i++) if (this.s[i] < end && this.e[i] > first) any = true;
    if (!any) return;
    this.touch();
    const s: number[] = [], e: number[] = [], b: number[] = [];
    for (let i = 0; i < this.s.length; i++) {
      const a = this.s[i], z = this.e[i];
      if (z <= first || a >= end) {
        s.push(a), e.push(z), b.push(this.b[i]);
        continue;
      }
      if (a < first) s.push(a), e.push(first), b.push(this.b[i]);
      if (z > end) s.push(end), e.push(z), b.push(this.b[i]);
    }
    this.s = s;
    this.e = e;
    this.b = b;
  }

  /** Pages [first, end) are filled with byte (0 clears them: absent pages read as zero). */
  set(first: number, end: number, byte: number): void {
    this.clear(first, end);
    if (byte === 0 || first >= end) return;
    this.touch();
    let i = 0;
    while (i < this.s.length && this.s[i] < first) i++;
    // merge with neighbours of the same byte
    if (i > 0 && this.e[i - 1] === first && this.b[i - 1] === byte) {
      this.e[i - 1] = end;
      if (i < this.s.length && this.s[i] === end && this.b[i] === byte) {
        this.e[i - 1] = this.e[i];
        this.s.splice(i, 1), this.e.splice(i, 1), this.b.splice(i, 1);
      }
      return;
    }
    if (i < this.s.length && this.s[i] === end && this.b[i] === byte) {
      this.s[i] = first;
      return;
    }
    this.s.splice(i, 0, first), this.e.splice(i, 0, end), this.b.splice(i, 0, byte);
  }

  /** mremap: extents in pages [first, first + oldPages) move by delta pages; only the first keepPages stay. */
  move(first: number, oldPages: number, delta: number, keepPages: number): void {
    const end = first + oldPages;
    const moved: [number, number, number][] = [];
    for (let i = 0; i < this.s.length; i++) {
      const a = Math.max(this.s[i], first), z = Math.min(this.e[i], end, first + keepPages);
      if (a < z) moved.push([a + delta, z + delta, this.b[i]]);
    }
    this.clear(first, end);
    for (const [a, z, byte] of moved) this.set(a, z, byte);
  }

  /** All extents, for the state hash. */
  hash(): number {
    this.dirty = false;
    if (this.s.length === 0) return 0;
    const h = new StateHasher();
    for (let i = 0; i < this.s.length; i++) h.int(this.s[i]).int(this.e[i]).int(this.b[i]);
    return parseInt(h.digest().slice(0, 13), 16);
  }

  begin(): void {
    this.txOpen = true;
    this.saved = undefined;
  }

  commit(): void {
    this.txOpen = false;
    this.saved = undefined;
  }

  rollback(): void {
    if (this.saved !== undefined) {
      [this.s, this.e, this.b] = this.saved;
      this.dirty = true;
    }
    this.txOpen = false;
    this.saved = undefined;
  }
}
