// Where a new mapping goes: get_unmapped_area() with the x86-64 top-down layout.
//   mm/mmap.c __get_unmapped_area(): anonymous private mappings whose length is a multiple of
//     2 MiB (and with no hint) are THP-aligned (thp_get_unmapped_area_vmflags, 6.7+);
//   arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area_topdown(): the hint if it fits, else
//     the highest gap below mmap_base, else bottom-up from mmap_legacy_base;
//   mm/vma.c unmapped_area_topdown() / unmapped_area(): the gap search.
import { MMAP_MIN_ADDR, PAGE_SIZE, PMD_SIZE, STACK_GUARD_GAP, TASK_SIZE, VM_GROWSDOWN } from './constants.js';
import type { Vma } from './types.js';
import { findVmaIndex } from './vma-list.js';
import { ENOMEM } from '../contracts/heap-sys.js';

/** vm_start_gap(): a stack's guard gap belongs to it. */
const startGap = (v: Vma): number => ((v.flags & VM_GROWSDOWN) !== 0 ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start);

/** (x mod 2^k) for a non-negative x and an alignment a = 2^k (C's `x & (a - 1)` without 32-bit truncation). */
const modAlign = (x: number, a: number): number => ((x % a) + a) % a;

export interface UnmappedAreaInfo {
  readonly length: number;
  readonly lowLimit: number;
  readonly highLimit: number;
  /** 0 or a power of two minus one. */
  readonly alignMask: number;
  readonly alignOffset: number;
}

/** mm/vma.c unmapped_area_topdown(): the top of the highest gap that fits; -ENOMEM if none. */
export function unmappedAreaTopdown(vmas: readonly Vma[], info: UnmappedAreaInfo): number {
  const length = info.length + info.alignMask;
  const low = Math.max(info.lowLimit, MMAP_MIN_ADDR);
  const high = info.highLimit;
  for (let i = vmas.length; i >= 0; i--) {
    const gapStart = Math.max(i > 0 ? vmas[i - 1].end : 0, low);
    const gapEnd = Math.min(i < vmas.length ? startGap(vmas[i]) : TASK_SIZE, high);
    if (gapEnd <= gapStart || gapEnd - gapStart < length) continue;
    let gap = gapEnd - info.length;
    gap -= modAlign(gap - info.alignOffset, info.alignMask + 1);
    return gap;
  }
  return -ENOMEM;
}

/** mm/vma.c unmapped_area(): the bottom of the lowest gap that fits; -ENOMEM if none. */
export function unmappedAreaBottomup(vmas: readonly Vma[], info: UnmappedAreaInfo): number {
  const length = info.length + info.alignMask;
  const low = Math.max(info.lowLimit, MMAP_MIN_ADDR);
  for (let i = 0; i <= vmas.length; i++) {
    const gapStart = Math.max(i > 0 ? vmas[i - 1].end : 0, low);
    const gapEnd = Math.min(i < vmas.length ? startGap(vmas[i]) : TASK_SIZE, info.highLimit);
    if (gapEnd <= gapStart || gapEnd - gapStart < length) continue;
    let gap = gapStart;
    gap += modAlign(info.alignOffset - gap, info.alignMask + 1);
    return gap;
  }
  return -ENOMEM;
}

export interface AddressSpace {
  readonly vmas: readonly Vma[];
  readonly mmapBase: number;
  /** mm->mmap_legacy_base: TASK_UNMAPPED_BASE + the mmap randomization. */
  readonly mmapLegacyBase: number;
}

/** arch_get_unmapped_area_topdown() for a non-MAP_FIXED request. */
function archTopdown(as: AddressSpace, hint: number, len: number): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (hint) {
    const addr = hint - modAlign(hint, PAGE_SIZE);
    // mmap_address_hint_valid(): below the 47-bit window and not straddling it.
    if (TASK_SIZE - len >= addr) {
      const i = findVmaIndex(as.vmas, addr);
      if (i < 0 || addr + len <= startGap(as.vmas[i])) return addr;
    }
  }
  const top = unmappedAreaTopdown(as.vmas, { length: len, lowLimit: PAGE_SIZE, highLimit: as.mmapBase, alignMask: 0, alignOffset: 0 });
  if (top >= 0) return top;
  // A failed top-down search falls back to bottom-up from the legacy base.
  return unmappedAreaBottomup(as.vmas, { length: len, lowLimit: as.mmapLegacyBase, highLimit: TASK_SIZE, alignMask: 0, alignOffset: 0 });
}

/** mm/huge_memory.c __thp_get_unmapped_area() for anonymous memory (pgoff 0). 0: fall back. */
function thpAligned(as: AddressSpace, len: number): number {
  const lenPad = len + PMD_SIZE;
  const ret = archTopdown(as, 0, lenPad);
  if (ret < 0) return 0;
  const offSub = modAlign(0 - ret, PMD_SIZE);
  return offSub === 0 ? ret + PMD_SIZE : ret + offSub;
}

/**
 * mm/mmap.c __get_unmapped_area() for a mapping of `len` bytes (page-aligned). `anonPrivate`:
 * no file and not MAP_SHARED (only those get THP alignment). MAP_FIXED is handled by the
 * caller (the address is taken as it is). Returns the address or -ENOMEM.
 */
export function getUnmappedArea(as: AddressSpace, hint: number, len: number, anonPrivate: boolean): number {
  if (len > TASK_SIZE) return -ENOMEM;
  let addr = 0;
  if (anonPrivate && hint === 0 && len % PMD_SIZE === 0) addr = thpAligned(as, len);
  if (addr === 0) addr = archTopdown(as, hint, len);
  if (addr < 0) return addr;
  if (addr > TASK_SIZE - len) return -ENOMEM;
  return addr;
}
