// The mappings the allocator itself made (brk heap, mmapped chunks, arena heaps, mmap'd
// fallback regions), mirrored from its own system calls as the kernel would apply them. It
// answers "is this address mapped?" so that a load or store through a corrupted pointer ends
// in SIGSEGV as it would in the real process, and it is where inspection finds the mmapped
// chunks. The kernel's own VMA list (in vm/) is the authority; this is the allocator's view.
import type { AddressMap } from './word-memory.js';

/** What a mapping is for. */
export const enum MapUse {
  Brk = 1,
  Chunk = 2,
  ArenaHeap = 3,
  Fallback = 4,
  /** libc's own data (main_arena): mapped, its touches are not the heap's business. */
  Libc = 5,
}

export interface Mapping {
  start: number;
  end: number;
  prot: number;
  use: MapUse;
  /** Chunk mappings: the chunk's address (memalign may move it inside the mapping). */
  aux: number;
}

const PROT_WRITE = 2;
const PROT_READ = 1;

export class Mappings implements AddressMap {
  private list: Mapping[] = [];
  private saved: Mapping[] | undefined;
  private txOpen = false;

  mappingKind(addr: number, write: boolean): 0 | 1 | 2 {
    const m = this.find(addr);
    if (m === undefined) return 0;
    if ((m.prot & (write ? PROT_WRITE : PROT_READ)) === 0) return 0;
    return m.use === MapUse.Libc ? 2 : 1;
  }

  find(addr: number): Mapping | undefined {
    const l = this.list;
    let lo = 0, hi = l.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = l[mid];
      if (addr < m.start) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  all(): readonly Mapping[] {
    return this.list;
  }

  private mutable(): Mapping[] {
    if (this.txOpen && this.saved === undefined) {
      this.saved = this.list;
      this.list = this.list.map((m) => ({ ...m }));
    }
    return this.list;
  }

  /** mmap (MAP_FIXED semantics: whatever was there is replaced). */
  map(start: number, len: number, prot: number, use: MapUse, aux = 0): void {
    this.unmap(start, len);
    const l = this.mutable();
    const m: Mapping = { start, end: start + len, prot, use, aux };
    let i = 0;
    while (i < l.length && l[i].start < start) i++;
    l.splice(i, 0, m);
  }

  unmap(start: number, len: number): void {
    const end = start + len;
    if (!this.list.some((m) => m.start < end && m.end > start)) return;
    const l = this.mutable();
    const out: Mapping[] = [];
    for (const m of l) {
      if (m.end <= start || m.start >= end) {
        out.push(m);
        continue;
      }
      if (m.start < start) out.push({ ...m, end: start });
      if (m.end > end) out.push({ ...m, start: end });
    }
    this.list = out;
  }

  protect(start: number, len: number, prot: number): void {
    const end = start + len;
    const l = this.mutable();
    const out: Mapping[] = [];
    for (const m of l) {
      if (m.end <= start || m.start >= end) {
        out.push(m);
        continue;
      }
      if (m.start < start) out.push({ ...m, end: start });
      out.push({ ...m, start: Math.max(m.start, start), end: Math.min(m.end, end), prot });
      if (m.end > end) out.push({ ...m, start: end });
    }
    this.list = out;
  }

  /** Sets the chunk address of the chunk mapping that contains addr. */
  setAux(addr: number, aux: number): void {
    const m = this.find(addr);
    if (m === undefined) return;
    this.mutable();
    const n = this.find(addr);
    if (n !== undefined) n.aux = aux;
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
    if (this.saved !== undefined) this.list = this.saved;
    this.txOpen = false;
    this.saved = undefined;
  }
}
