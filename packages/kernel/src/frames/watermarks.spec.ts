import { describe, expect, it } from 'vitest';
import { defaultMinFreeKbytes, inactiveIsLow, lowmemReserve, multFrac, setupWatermarks, totalReservePages } from './watermarks.js';

describe('watermarks, 6.18 rules', () => {
  // A real 6.18 guest (24 GiB) read from /proc/zoneinfo: managed DMA 3840, DMA32 772808,
  // Normal 393216 (at the time its watermarks were last set), min_free_kbytes 67584,
  // watermark_scale_factor 10.
  const pages = [3840, 772808, 393216, 0, 0];
  const wm = setupWatermarks({ profile: 'linux-6.18', pages, minFreeKbytes: 67584, watermarkScaleFactor: 10 });

  it('min/low/high/promo per zone are what that kernel printed', () => {
    expect(wm).toEqual([
      { min: 55, low: 68, high: 81, promo: 94 },
      { min: 11161, low: 13951, high: 16741, promo: 19531 },
      { min: 5679, low: 7098, high: 8517, promo: 9936 },
      { min: 32, low: 32, high: 32, promo: 32 }, // Movable: clamp(0 / 1024, 32, 128)
      { min: 0, low: 0, high: 0, promo: 0 }, // Device
    ]);
  });

  it('protection (lowmem_reserve) is what that kernel printed', () => {
    expect(lowmemReserve('linux-6.18', pages)).toEqual([
      [0, 3018, 4554, 4554, 4554],
      [0, 0, 1536, 1536, 1536],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
  });

  it('totalreserve_pages: per zone min(pages, max reserve + high)', () => {
    // DMA 4554 + 81 = 4635 > 3840 -> 3840; DMA32 1536 + 16741; Normal 8517; Movable capped at 0.
    const r = lowmemReserve('linux-6.18', pages);
    expect(totalReservePages(pages, wm, r)).toBe(3840 + 18277 + 8517);
  });

  it('default min_free_kbytes is int_sqrt(lowmem_kbytes * 16)', () => {
    // 1 GiB machine: 245504 managed pages = 982016 kB; 982016 * 16 = 15712256; 3963^2 = 15705369 <= it < 3964^2.
    expect(defaultMinFreeKbytes('linux-6.18', [3840, 241664, 0, 0, 0])).toBe(3963);
    // clamped to 128 .. 262144 (6.x) and 128 .. 65536 (2.6.18)
    expect(defaultMinFreeKbytes('linux-6.18', [2 ** 30, 0, 0, 0, 0])).toBe(262144);
    expect(defaultMinFreeKbytes('linux-2.6.18', [2 ** 30, 0, 0, 0])).toBe(65536);
    expect(defaultMinFreeKbytes('linux-6.18', [10, 0, 0, 0, 0])).toBe(128);
  });

  it('a 1 GiB machine, by hand', () => {
    // pages_min = 3963 >> 2 = 990; lowmem = 245504. DMA: 990*3840/245504 = 15, gap max(3, 3) = 3.
    // DMA32: 990*241664/245504 = 974, gap max(243, mult_frac(241664, 10, 10000) = 241) = 243.
    const w = setupWatermarks({ profile: 'linux-6.18', pages: [3840, 241664, 0, 0, 0], minFreeKbytes: 3963, watermarkScaleFactor: 10 });
    expect(w[0]).toEqual({ min: 15, low: 18, high: 21, promo: 24 });
    expect(w[1]).toEqual({ min: 974, low: 1217, high: 1460, promo: 1703 });
    const r = lowmemReserve('linux-6.18', [3840, 241664, 0, 0, 0]);
    expect(r[0]).toEqual([0, 944, 944, 944, 944]); // 241664 / 256
    expect(totalReservePages([3840, 241664, 0, 0, 0], w, r)).toBe(944 + 21 + 1460);
  });

  it('watermark_scale_factor widens the gap when it exceeds a quarter of min', () => {
    // DMA32 with wsf 100: mult_frac(241664, 100, 10000) = 2416 > 243.
    const w = setupWatermarks({ profile: 'linux-6.18', pages: [3840, 241664, 0, 0, 0], minFreeKbytes: 3963, watermarkScaleFactor: 100 });
    expect(w[1]).toEqual({ min: 974, low: 974 + 2416, high: 974 + 4832, promo: 974 + 7248 });
    expect(multFrac(241664, 100, 10000)).toBe(2416);
  });
});

describe('watermarks, 2.6.18 rules (present pages, low = min + min/4, high = min + min/2)', () => {
  const present = [3998, 258048, 0, 0];
  it('a 1 GiB machine, by hand', () => {
    // lowmem_kbytes = 262046 * 4 = 1048184; *16 = 16770944; int_sqrt = 4095.
    expect(defaultMinFreeKbytes('linux-2.6.18', present)).toBe(4095);
    const w = setupWatermarks({ profile: 'linux-2.6.18', pages: present, minFreeKbytes: 4095, watermarkScaleFactor: 10 });
    // pages_min 1023: DMA 1023*3998/262046 = 15 -> 15/18/22; DMA32 1007 -> 1007/1258/1510; HighMem 32.
    expect(w.map((z) => [z.min, z.low, z.high])).toEqual([[15, 18, 22], [1007, 1258, 1510], [0, 0, 0], [32, 32, 32]]);
    const r = lowmemReserve('linux-2.6.18', present);
    expect(r[0]).toEqual([0, 1008, 1008, 1008]);
    expect(totalReservePages(present, w, r)).toBe(1030 + 1510);
  });
});

describe('inactive_is_low', () => {
  it('ratio 1 below 1 GiB, int_sqrt(10 * GiB) above', () => {
    expect(inactiveIsLow(100, 101)).toBe(true);
    expect(inactiveIsLow(100, 100)).toBe(false);
    // 3 GiB of pages: ratio int_sqrt(30) = 5.
    const total = 3 * 262144;
    expect(inactiveIsLow(total / 6, (5 * total) / 6)).toBe(false); // inactive*5 = active
    expect(inactiveIsLow(total / 6 - 1, (5 * total) / 6 + 1)).toBe(true);
  });
});
