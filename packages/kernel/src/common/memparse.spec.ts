// page_counter_memparse(): "max", or memparse() (lib/cmdline.c): simple_strtoull(s, &end, 0),
// then one optional K/M/G/T/P/E suffix, each a factor of 1024, and nothing after. Expected
// values worked out by hand from those rules.
import { describe, expect, it } from 'vitest';
import { pageCounterMemparse } from './memparse.js';

describe('pageCounterMemparse', () => {
  it('takes max, plain bytes, and K/M/G/T suffixes in either case', () => {
    expect(pageCounterMemparse('max')).toBe(-1);
    expect(pageCounterMemparse('4096')).toBe(4096);
    expect(pageCounterMemparse('48M')).toBe(48 * 1024 * 1024);
    expect(pageCounterMemparse('48m')).toBe(48 * 1024 * 1024);
    expect(pageCounterMemparse('1k')).toBe(1024);
    expect(pageCounterMemparse('2G')).toBe(2 * 1024 ** 3);
    expect(pageCounterMemparse('1T')).toBe(1024 ** 4);
    expect(pageCounterMemparse('0')).toBe(0);
  });

  it('reads base 0 as strtoull does: 0x hex, a leading 0 octal', () => {
    expect(pageCounterMemparse('0x1000')).toBe(4096);
    expect(pageCounterMemparse('010')).toBe(8);
    expect(pageCounterMemparse('0x10M')).toBe(16 * 1024 * 1024);
  });

  it('strips surrounding whitespace, and refuses anything else or past 2^53', () => {
    expect(pageCounterMemparse(' 4096\n')).toBe(4096);
    for (const bad of ['', '-1', '48MB', '48 M', '1.5G', 'maxx', '09', 'K', '0x', '16E']) expect(pageCounterMemparse(bad), bad).toBeUndefined();
  });
});
