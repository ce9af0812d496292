// Pure planners for VMA changes, used by decide() (to check limits and charges before it emits)
// and by apply() (to carry the change out): both compute the same thing from the same state.
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../contracts/heap-sys.js';
import {
  PAGE_SIZE,
  VM_ACCOUNT,
  VM_EXEC,
  VM_LOCKED,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import type { Mm, Vma } from './types.js';
import { mergeAround, splitAt, vmaPages } from './vma-list.js';

export const protToFlags = (prot: number): number =>
  ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);

const PROT_BITS = VM_READ | VM_WRITE | VM_EXEC;

export interface ProtectPlan {
  readonly vmas: Vma[];
  /** Pages that become charged (read-only private -> writable). */
  readonly charge: number;
  /** Pages whose charge is given back (writable anonymous memory never written, made read-only). */
  readonly uncharge: number;
  /** Pages that turn into data mappings (for RLIMIT_DATA). */
  readonly newData: number;
}

/**
 * mm/mprotect.c mprotect_fixup() over [start, end), which VMAs fully cover: new protection,
 * VM_ACCOUNT when a private mapping becomes writable, dropped when an anonymous mapping with no
 * anon_vma becomes read-only again; then the pieces merge with their neighbours.
 */
export function protectPlan(mm: Mm, start: number, end: number, prot: number): ProtectPlan {
  const want = protToFlags(prot);
  let charge = 0;
  let uncharge = 0;
  let newData = 0;
  const out: Vma[] = [];
  for (const v of splitAt(mm.vmas, start, end)) {
    if (v.end <= start || v.start >= end) {
      out.push(v);
      continue;
    }
    let flags = (v.flags & ~PROT_BITS) | want;
    const n = vmaPages(v);
    if (flags & VM_WRITE) {
      if ((v.flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) {
        flags |= VM_ACCOUNT;
        charge += n;
      }
      if ((v.flags & (VM_WRITE | VM_SHARED)) === 0) newData += n;
    } else if ((v.flags & VM_ACCOUNT) && v.kind === 'anon' && !v.anon) {
      flags &= ~VM_ACCOUNT;
      uncharge += n;
    }
    out.push({ ...v, flags });
  }
  return { vmas: mergeAround(out, start, end), charge, uncharge, newData };
}

/** mm/mlock.c mlock_fixup() over [start, end) (fully covered): VM_LOCKED set or cleared, then merged. */
export function lockPlan(mm: Mm, start: number, end: number, locked: boolean): { vmas: Vma[]; newlyLocked: number } {
  let newlyLocked = 0;
  const out: Vma[] = [];
  for (const v of splitAt(mm.vmas, start, end)) {
    if (v.end <= start || v.start >= end || v.kind === 'special') {
      out.push(v);
      continue;
    }
    if (locked && !(v.flags & VM_LOCKED)) newlyLocked += vmaPages(v);
    out.push({ ...v, flags: locked ? v.flags | VM_LOCKED : v.flags & ~VM_LOCKED });
  }
  return { vmas: mergeAround(out, start, end), newlyLocked };
}

export const pageAlignUp = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
