// memory.max / memory.high / memory.swap.max accept what the kernel's page_counter_memparse()
// accepts: "max", or memparse() (lib/cmdline.c): simple_strtoull(s, &end, 0), then one optional
// K/M/G/T/P/E suffix, each a factor of 1024, and nothing after. Expected values by hand.
import { describe, expect, it } from 'vitest';
import { limitValue } from './vma-grpc.js';

describe('cgroup limit values (page_counter_memparse)', () => {
  it('takes max, plain bytes, and K/M/G/T suffixes in either case', () => {
    expect(limitValue('memory.max', 'max')).toBe(-1);
    expect(limitValue('memory.max', '4096')).toBe(4096);
    expect(limitValue('memory.max', '48M')).toBe(48 * 1024 * 1024);
    expect(limitValue('memory.max', '48m')).toBe(48 * 1024 * 1024);
    expect(limitValue('memory.max', '1k')).toBe(1024);
    expect(limitValue('memory.max', '2G')).toBe(2 * 1024 ** 3);
    expect(limitValue('memory.max', '1T')).toBe(1024 ** 4);
    expect(limitValue('memory.max', '0')).toBe(0);
  });

  it('reads base 0 as strtoull does: 0x hex, a leading 0 octal', () => {
    expect(limitValue('memory.max', '0x1000')).toBe(4096);
    expect(limitValue('memory.max', '010')).toBe(8);
    expect(limitValue('memory.max', '0x10M')).toBe(16 * 1024 * 1024);
  });

  it('ignores surrounding whitespace (the write is stripped), and refuses anything else', () => {
    expect(limitValue('memory.max', ' 4096\n')).toBe(4096);
    for (const bad of ['', '-1', '48MB', '48 M', '1.5G', 'maxx', '09', 'K', '0x']) {
      expect(() => limitValue('memory.max', bad), bad).toThrow(/memory\.max takes bytes/);
    }
  });
});
