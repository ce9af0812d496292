// Size classes and bin indices, from the rules in glibc 2.36 malloc.c (and the reference notes).
import { describe, expect, it } from 'vitest';
import {
  binIndex,
  checkedRequest2size,
  csize2tidx,
  fastbinIndex,
  largebinIndex,
  maxFastFor,
  powerof2,
  request2size,
  smallbinIndex,
  TCACHE_STRUCT_SIZE,
  tidx2usize,
} from './constants.js';

describe('request2size', () => {
  it('pads by 8 and rounds to 16, at least 32', () => {
    expect(request2size(0)).toBe(0x20);
    expect(request2size(24)).toBe(0x20);
    expect(request2size(25)).toBe(0x30);
    expect(request2size(40)).toBe(0x30);
    expect(request2size(41)).toBe(0x40);
    expect(request2size(1032)).toBe(0x410);
    expect(request2size(132000)).toBe(132016);
  });
  it('refuses requests above PTRDIFF_MAX', () => {
    expect(checkedRequest2size(2 ** 63)).toBe(0);
    expect(checkedRequest2size(2 ** 50)).toBe(2 ** 50 + 16);
  });
});

describe('bins', () => {
  it('small bins index by size / 16 below 1024', () => {
    expect(smallbinIndex(0x20)).toBe(2);
    expect(smallbinIndex(1008)).toBe(63);
    expect(binIndex(1008)).toBe(63);
  });
  it('large bins follow largebin_index_64', () => {
    expect(largebinIndex(1024)).toBe(64); // 48 + 16
    expect(largebinIndex(3072)).toBe(96); // 48 + 48
    expect(largebinIndex(3136)).toBe(97); // 3136 >> 6 = 49 > 48; 91 + 6
    expect(largebinIndex(10240)).toBe(111); // 91 + 20
    expect(largebinIndex(10752)).toBe(112); // >> 9 = 21; 110 + 2
    expect(largebinIndex(40960)).toBe(120); // >> 12 = 10 -> 120; 
    expect(largebinIndex(163840)).toBe(124); // >> 15 = 5 > 4; >> 18 = 0 -> 124
    expect(largebinIndex(786432)).toBe(126); // >> 18 = 3 > 2
  });
  it('fastbins hold 0x20..0x80 by default (global_max_fast 128)', () => {
    expect(fastbinIndex(0x20)).toBe(0);
    expect(fastbinIndex(0x80)).toBe(6);
    expect(maxFastFor(128)).toBe(0x80);
    expect(maxFastFor(0)).toBe(16); // "impossibly small": no chunk is that small
    expect(maxFastFor(64)).toBe(0x40);
    expect(maxFastFor(160)).toBe(0xa0);
  });
});

describe('tcache', () => {
  it('has 64 bins of chunk sizes 0x20..0x410 and a 640-byte struct (a 0x290 chunk)', () => {
    expect(csize2tidx(0x20)).toBe(0);
    expect(csize2tidx(0x410)).toBe(63);
    expect(tidx2usize(63)).toBe(1032);
    expect(TCACHE_STRUCT_SIZE).toBe(640);
    expect(request2size(TCACHE_STRUCT_SIZE)).toBe(0x290);
  });
});

describe('powerof2 (glibc: true for 0)', () => {
  it('works above 2^32', () => {
    expect(powerof2(0)).toBe(true);
    expect(powerof2(2 ** 40)).toBe(true);
    expect(powerof2(2 ** 40 + 2 ** 20)).toBe(false);
    expect(powerof2(48)).toBe(false);
  });
});
