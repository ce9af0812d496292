// An mm's VMAs as an array sorted by address (the kernel keeps a maple tree; an array with
// binary search is enough for the few hundred VMAs a process has). Arrays are never changed
// in place: every operation returns a new one, so decide() can work on them freely.
import { PAGE_SIZE, VM_ACCOUNT, VM_EXEC, VM_LOCKED, VM_SHARED, VM_SPECIAL, VM_STACK, VM_WRITE } from './constants.js';
import type { Vma } from './types.js';

/** mm/mmap.c find_vma(): the first VMA that ends above addr (it may start above addr too); -1 if none. */
export function findVmaIndex(vmas: readonly Vma[], addr: number): number {
  let lo = 0;
  let hi = vmas.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vmas[mid].end > addr) hi = mid;
    else lo = mid + 1;
  }
  return lo < vmas.length ? lo : -1;
}

/** The VMA containing addr. */
export function vmaAt(vmas: readonly Vma[], addr: number): Vma | undefined {
  const i = findVmaIndex(vmas, addr);
  return i >= 0 && vmas[i].start <= addr ? vmas[i] : undefined;
}

/** Indices [first, last) of the VMAs overlapping [start, end). */
export function overlapping(vmas: readonly Vma[], start: number, end: number): [number, number] {
  const first = findVmaIndex(vmas, start);
  if (first < 0) return [vmas.length, vmas.length];
  let last = first;
  while (last < vmas.length && vmas[last].start < end) last++;
  return [first, last];
}

export const vmaPages = (v: Vma): number => (v.end - v.start) / PAGE_SIZE;

/** The VMA cut to [start, end) (which it must contain), with vm_pgoff moved along. */
export function sliceVma(v: Vma, start: number, end: number): Vma {
  return { ...v, start, end, pgoff: v.pgoff + (start - v.start) / PAGE_SIZE };
}

/** Splits the VMAs that straddle start or end, so that [start, end) is covered by whole VMAs. */
export function splitAt(vmas: readonly Vma[], start: number, end: number): Vma[] {
  const out: Vma[] = [];
  for (const v of vmas) {
    if (v.end <= start || v.start >= end) {
      out.push(v);
      continue;
    }
    if (v.start < start) out.push(sliceVma(v, v.start, start));
    out.push(sliceVma(v, Math.max(v.start, start), Math.min(v.end, end)));
    if (v.end > end) out.push(sliceVma(v, end, v.end));
  }
  return out;
}

/** Removes [start, end): the VMAs that remain and the pieces that were removed. */
export function removeRange(vmas: readonly Vma[], start: number, end: number): { kept: Vma[]; removed: Vma[] } {
  const kept: Vma[] = [];
  const removed: Vma[] = [];
  for (const v of splitAt(vmas, start, end)) {
    if (v.start >= start && v.end <= end) removed.push(v);
    else kept.push(v);
  }
  return { kept, removed };
}

/**
 * mm/vma.c is_mergeable_vma() + the anon/file pgoff rule: adjacent, same flags, same backing
 * object, contiguous vm_pgoff, nothing special. (Every anon_vma of one mm is treated as
 * compatible: the model has one anon_vma per mm.)
 */
export function canMerge(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start &&
    a.flags === b.flags &&
    a.kind === b.kind &&
    a.kind !== 'special' &&
    (a.flags & VM_SPECIAL) === 0 &&
    a.file === b.file &&
    a.name === b.name &&
    a.pgoff + vmaPages(a) === b.pgoff
  );
}

/** Merges every pair of neighbours that can merge (vma_merge after an insert or a flags change). */
export function mergeAll(vmas: readonly Vma[]): Vma[] {
  const out: Vma[] = [];
  for (const v of vmas) {
    const prev = out[out.length - 1];
    if (prev && canMerge(prev, v)) out[out.length - 1] = { ...prev, end: v.end, anon: prev.anon || v.anon };
    else out.push(v);
  }
  return out;
}

/** Merges only around [start, end): the kernel merges the VMAs an operation touched, never others. */
export function mergeAround(vmas: readonly Vma[], start: number, end: number): Vma[] {
  const out: Vma[] = [];
  for (const v of vmas) {
    const prev = out[out.length - 1];
    const touches = (x: Vma): boolean => x.end >= start && x.start <= end;
    if (prev && canMerge(prev, v) && (touches(prev) || touches(v))) out[out.length - 1] = { ...prev, end: v.end, anon: prev.anon || v.anon };
    else out.push(v);
  }
  return out;
}

/** Inserts a VMA into a gap (no overlap), sorted. */
export function insertVma(vmas: readonly Vma[], vma: Vma): Vma[] {
  const i = findVmaIndex(vmas, vma.start);
  const at = i < 0 ? vmas.length : i;
  if (at < vmas.length && vmas[at].start < vma.end) throw new Error(`insertVma: ${vma.start.toString(16)} overlaps`);
  return [...vmas.slice(0, at), vma, ...vmas.slice(at)];
}

/** include/linux/mm.h is_data_mapping(): private writable, not stack. RLIMIT_DATA counts these. */
export const isDataMapping = (flags: number): boolean => (flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE;
export const isExecMapping = (flags: number): boolean => (flags & (VM_WRITE | VM_EXEC | VM_STACK)) === VM_EXEC;
export const isStackMapping = (flags: number): boolean => (flags & VM_STACK) === VM_STACK;

/** mm/vma.c accountable_mapping(): charged to Committed_AS at mmap. */
export const isAccountable = (flags: number, noreserve: boolean, shared: boolean): boolean =>
  !noreserve && !shared && (flags & VM_WRITE) !== 0;

export interface VmStat {
  totalVm: number;
  dataVm: number;
  execVm: number;
  stackVm: number;
  lockedVm: number;
  /** Pages of VM_ACCOUNT VMAs: what exit/munmap give back to Committed_AS. */
  accounted: number;
}

/** mm/mmap.c vm_stat_account() summed over the VMAs: VmSize, VmData, VmExe+VmLib, VmStk, VmLck. */
export function vmStat(vmas: readonly Vma[]): VmStat {
  const s: VmStat = { totalVm: 0, dataVm: 0, execVm: 0, stackVm: 0, lockedVm: 0, accounted: 0 };
  for (const v of vmas) {
    const n = vmaPages(v);
    s.totalVm += n;
    if (isExecMapping(v.flags)) s.execVm += n;
    else if (isStackMapping(v.flags)) s.stackVm += n;
    else if (isDataMapping(v.flags)) s.dataVm += n;
    if (v.flags & VM_LOCKED) s.lockedVm += n;
    if (v.flags & VM_ACCOUNT) s.accounted += n;
  }
  return s;
}

/** Pages of [start, end) covered by VMAs. */
export function mappedPages(vmas: readonly Vma[], start: number, end: number): number {
  let n = 0;
  const [a, b] = overlapping(vmas, start, end);
  for (let i = a; i < b; i++) n += (Math.min(end, vmas[i].end) - Math.max(start, vmas[i].start)) / PAGE_SIZE;
  return n;
}

/** Pages of VM_ACCOUNT VMAs within [start, end). */
export function accountedPages(vmas: readonly Vma[], start: number, end: number): number {
  let n = 0;
  const [a, b] = overlapping(vmas, start, end);
  for (let i = a; i < b; i++) {
    if (vmas[i].flags & VM_ACCOUNT) n += (Math.min(end, vmas[i].end) - Math.max(start, vmas[i].start)) / PAGE_SIZE;
  }
  return n;
}
