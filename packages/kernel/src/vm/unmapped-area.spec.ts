import { describe, expect, it } from 'vitest';
import { getUnmappedArea } from './unmapped-area.js';
import type { Vma } from './types.js';

const vma = (start: number, end: number, flags = 0x73): Vma => ({ start, end, flags, pgoff: start / 4096, kind: 'anon', file: 0, name: '', anon: false });
const as = (vmas: Vma[], mmapBase = 0x7f0000000000) => ({ vmas, mmapBase, mmapLegacyBase: 0x2aaaaaaab000 });

describe('get_unmapped_area (top-down, x86-64)', () => {
  it('takes the top of the highest gap below mmap_base', () => {
    expect(getUnmappedArea(as([]), 0, 0x3000, true)).toBe(0x7f0000000000 - 0x3000);
    const vmas = [vma(0x7effffffd000, 0x7f0000000000)];
    expect(getUnmappedArea(as(vmas), 0, 0x1000, true)).toBe(0x7effffffc000);
  });

  it('skips a gap that is too small', () => {
    const vmas = [vma(0x7efffff00000, 0x7effffffe000), vma(0x7efffffff000, 0x7f0000000000)];
    // One page fits between them; two pages go below the first.
    expect(getUnmappedArea(as(vmas), 0, 0x1000, true)).toBe(0x7effffffe000);
    expect(getUnmappedArea(as(vmas), 0, 0x2000, true)).toBe(0x7efffff00000 - 0x2000);
  });

  it('THP-aligns anonymous private mappings whose length is a multiple of 2 MiB (seen on 6.18: 2 MiB below 0x7f2f0d85a000 -> 0x7f2f0d600000)', () => {
    // __thp_get_unmapped_area: search len + 2 MiB, then round the address up to 2 MiB.
    const vmas = [vma(0x7f2f0d85a000, 0x7f2f0d95a000)];
    expect(getUnmappedArea(as(vmas, 0x7f2f0d85a000), 0, 2 << 20, true)).toBe(0x7f2f0d600000);
    // Not for 1 MiB, not for shared (shmem) mappings.
    expect(getUnmappedArea(as(vmas, 0x7f2f0d85a000), 0, 1 << 20, true)).toBe(0x7f2f0d85a000 - (1 << 20));
    expect(getUnmappedArea(as(vmas, 0x7f2f0d85a000), 0, 2 << 20, false)).toBe(0x7f2f0d85a000 - (2 << 20));
  });

  it('when the padded search ends aligned it takes the top (off_sub 0: ret + 2 MiB)', () => {
    expect(getUnmappedArea(as([], 0x7f0000000000), 0, 4 << 20, true)).toBe(0x7f0000000000 - (4 << 20));
  });

  it('honours a free hint, and ignores one that overlaps', () => {
    const vmas = [vma(0x10000000, 0x10002000)];
    expect(getUnmappedArea(as(vmas), 0x20000000, 0x1000, true)).toBe(0x20000000);
    expect(getUnmappedArea(as(vmas), 0x10001000, 0x1000, true)).toBe(0x7f0000000000 - 0x1000);
  });

  it('keeps stack_guard_gap (1 MiB) below a VM_GROWSDOWN VMA', () => {
    const stack = vma(0x7f0000000000 - 0x21000, 0x7f0000000000, 0x173);
    expect(getUnmappedArea(as([stack], 0x7f0000000000), 0, 0x1000, true)).toBe(0x7f0000000000 - 0x21000 - 0x100000 - 0x1000);
  });

  it('falls back to bottom-up from mmap_legacy_base when nothing fits below mmap_base', () => {
    expect(getUnmappedArea(as([], 0x20000), 0, 0x100000, true)).toBe(0x2aaaaaaab000);
  });

  it('refuses more than TASK_SIZE', () => {
    expect(getUnmappedArea(as([]), 0, 2 ** 47, true)).toBe(-12);
  });
});
