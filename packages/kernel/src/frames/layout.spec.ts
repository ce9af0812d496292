import { describe, expect, it } from 'vitest';
import { computeLayout, idxOfPfn, pfnOfIdx, totalManaged } from './layout.js';

const GiB = 2 ** 30;

describe('machine layout', () => {
  it('24 GiB: spanned and present as a real 6.18 guest with 24 GiB shows them in /proc/zoneinfo', () => {
    // Measured: DMA start_pfn 1 spanned 4095 present 3998 managed 3840; DMA32 start_pfn 4096
    // spanned 1044480 present 782336; Normal start_pfn 1048576 spanned = present 5505024;
    // nr_memmap_boot_pages 98304.
    const l = computeLayout(24 * GiB, 'linux-6.18');
    const [dma, dma32, normal, movable, device] = l.zones;
    expect([dma.startPfn, dma.spanned, dma.present, dma.managed]).toEqual([1, 4095, 3998, 3840]);
    expect([dma32.startPfn, dma32.spanned, dma32.present]).toEqual([4096, 1044480, 782336]);
    expect([normal.startPfn, normal.spanned, normal.present]).toEqual([1048576, 5505024, 5505024]);
    expect(l.memmapPages).toBe(98304);
    // Our reservations: 48 MiB at 16 MiB in DMA32, the memmap at the top (Normal).
    expect(dma32.managed).toBe(782336 - 12288);
    expect(normal.managed).toBe(5505024 - 98304);
    expect([movable.present, device.present]).toEqual([0, 0]);
    expect(totalManaged(l)).toBe(3840 + 770048 + 5406720);
  });

  it('1 GiB: no Normal zone; the memmap (8 sections x 512 pages) is in DMA32', () => {
    const l = computeLayout(GiB, 'linux-6.18');
    expect(l.zones[1].spanned).toBe(262144 - 4096);
    expect(l.zones[1].present).toBe(258048);
    expect(l.zones[1].managed).toBe(258048 - 12288 - 4096);
    expect(l.zones[2].present).toBe(0);
    // MemTotal 982016 kB
    expect(totalManaged(l) * 4).toBe(982016);
  });

  it('the 2.6.18 profile has DMA, DMA32, Normal, HighMem', () => {
    expect(computeLayout(GiB, 'linux-2.6.18').zones.map((z) => z.name)).toEqual(['DMA', 'DMA32', 'Normal', 'HighMem']);
  });

  it('64 GiB is 16M frames; frame indexes skip the PCI hole [3 GiB, 4 GiB)', () => {
    const l = computeLayout(64 * GiB, 'linux-6.18');
    expect(l.nFrames).toBe(16 * 2 ** 20);
    expect(pfnOfIdx(786431)).toBe(786431);
    expect(pfnOfIdx(786432)).toBe(1048576);
    expect(idxOfPfn(1048576, l.nFrames)).toBe(786432);
    expect(idxOfPfn(900000, l.nFrames)).toBe(-1);
    expect(idxOfPfn(pfnOfIdx(l.nFrames - 1), l.nFrames)).toBe(l.nFrames - 1);
    expect(idxOfPfn(pfnOfIdx(l.nFrames), l.nFrames)).toBe(-1);
  });

  it('rejects RAM that is not a multiple of 4 KiB or too small', () => {
    expect(() => computeLayout(GiB + 1, 'linux-6.18')).toThrow();
    expect(() => computeLayout(64 * 2 ** 20, 'linux-6.18')).toThrow();
  });
});
