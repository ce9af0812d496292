// The word memory: exact 64-bit words, byte fills over partial words, the three tiers, touch
// reporting, transactions that put everything back, and a hash that follows the content.
import { describe, expect, it } from 'vitest';
import type { HeapSys } from '../../contracts/heap-sys.js';
import { SegvError, WordMemory, type AddressMap } from './word-memory.js';

const HEAP = 0x555555559000;
const LIBC = 2 ** 47;
const MMAP = 0x7f0000000000;

/** [HEAP, HEAP + 1 MiB) and [MMAP, MMAP + 64 KiB) mapped, libc's page mapped and untracked. */
const map: AddressMap = {
  mappingKind: (a: number) => (a >= LIBC && a < LIBC + 4096 ? 2 : (a >= HEAP && a < HEAP + 2 ** 20) || (a >= MMAP && a < MMAP + 65536) ? 1 : 0),
};

function mem(): WordMemory {
  const m = new WordMemory(map, LIBC);
  m.setBrkRegion(HEAP, HEAP + 2 ** 20);
  return m;
}

function recorder(): HeapSys & { log: string[] } {
  const log: string[] = [];
  const no = (): number => 0;
  return {
    log,
    brk: no,
    mmap: no,
    munmap: no,
    mremap: no,
    mprotect: no,
    madvise: no,
    write: (a, l) => log.push(`w ${(a - (a >= MMAP ? MMAP : HEAP)).toString(16)} ${l}`),
    read: (a, l) => log.push(`r ${(a - (a >= MMAP ? MMAP : HEAP)).toString(16)} ${l}`),
  };
}

describe('words', () => {
  it('keeps 64-bit values exactly, above 2^53 too (as halves)', () => {
    for (const base of [HEAP + 0x100, LIBC + 0x100, MMAP + 0x100]) {
      const m = mem();
      m.wr(base, 2 ** 47 + 0x10);
      expect(m.rd(base)).toBe(2 ** 47 + 0x10);
      m.wrHalves(base + 8, 0xa5a5a5a5, 0xa5a5a5a5);
      expect([m.rdLo(base + 8), m.rdHi(base + 8)]).toEqual([0xa5a5a5a5, 0xa5a5a5a5]);
      m.wr16(base + 18, 0xbeef);
      m.wr32(base + 20, 0xdeadbeef);
      expect([m.rd16(base + 16), m.rd16(base + 18), m.rd32(base + 20)]).toEqual([0, 0xbeef, 0xdeadbeef]);
    }
  });

  it('fills bytes: a one-byte overflow changes only the low byte of the next size field', () => {
    const m = mem();
    m.wr(HEAP + 0x28, 0x31);
    m.fill(HEAP + 0x10, 0x19, 0xa5); // 25 bytes from 0x10: the last one lands on 0x28
    expect(m.rd(HEAP + 0x28)).toBe(0xa5);
    m.wr(HEAP + 0x28, 0x1234_5678_9a31);
    m.fill(HEAP + 0x2a, 1, 0xff);
    expect(m.rd(HEAP + 0x28)).toBe(0x1234_56ff_9a31);
  });

  it('reads zero where nothing was stored, and faults outside every mapping', () => {
    const m = mem();
    expect(m.rd(HEAP + 0x8000)).toBe(0);
    expect(m.rd(MMAP + 0x8000)).toBe(0);
    expect(() => m.rd(0x1000)).toThrow(SegvError);
    expect(() => m.wr(MMAP + 0x20000, 1)).toThrow(SegvError);
  });

  it('copies, drops and moves', () => {
    const m = mem();
    m.fill(MMAP, 3 * 4096, 0x11); // whole pages of the map tier: one extent
    m.wr(MMAP + 4096 + 8, 7);
    m.copy(HEAP + 0x1000, MMAP + 4096, 4096);
    expect(m.rd(HEAP + 0x1008)).toBe(7);
    expect(m.rdLo(HEAP + 0x1010)).toBe(0x11111111);
    m.drop(MMAP + 4096, 4096);
    expect(m.rd(MMAP + 4096 + 8)).toBe(0);
    expect(m.rdLo(MMAP + 8192)).toBe(0x11111111);
    m.move(MMAP, 3 * 4096, MMAP + 8 * 4096, 2 * 4096);
    expect(m.rdLo(MMAP + 8 * 4096)).toBe(0x11111111);
    expect(m.rdLo(MMAP + 9 * 4096)).toBe(0);
    expect(m.rdLo(MMAP)).toBe(0);
  });
});

describe('touches', () => {
  it('reports each page once per flush, stores before loads, bulk ranges as given', () => {
    const m = mem();
    const sys = recorder();
    m.wr(HEAP + 0x10, 1);
    m.wr(HEAP + 0x18, 2);
    m.rd(HEAP + 0x2000);
    m.rd(HEAP + 0x20);
    m.rd(LIBC + 0x10); // libc's page is not the heap's business
    m.fill(HEAP + 0x3000, 100, 0xa5);
    m.flush(sys);
    expect(sys.log).toEqual(['w 0 4096', 'r 2000 4096', 'w 3000 100']);
    sys.log.length = 0;
    m.rd(HEAP + 0x10);
    m.flush(sys);
    expect(sys.log).toEqual(['r 0 4096']);
  });

  it('with persistTouches, reports a page again only after it was dropped', () => {
    const m = mem();
    m.persistTouches = true;
    const sys = recorder();
    m.wr(HEAP + 0x10, 1);
    m.flush(sys);
    m.wr(HEAP + 0x10, 2);
    m.flush(sys);
    m.drop(HEAP, 4096);
    m.wr(HEAP + 0x10, 3);
    m.flush(sys);
    expect(sys.log).toEqual(['w 0 4096', 'w 0 4096']);
  });
});

describe('transactions and the hash', () => {
  it('rollback restores every tier, the extents and the brk region, and the hash with them', () => {
    const m = mem();
    m.wr(HEAP + 0x10, 5);
    m.wr(LIBC + 0x60, 6);
    m.wr(MMAP + 0x10, 7);
    m.fill(MMAP + 4096, 8192, 0x22);
    const h0 = m.digest();
    const before = [h0.lo, h0.hi];
    m.begin();
    m.wr(HEAP + 0x10, 50);
    m.wr(LIBC + 0x60, 60);
    m.wr(MMAP + 0x10, 70);
    m.wr(MMAP + 4096 + 8, 71); // materializes a page of the extent
    m.fill(HEAP + 0x100, 40000, 0xa5);
    m.drop(MMAP, 4096);
    m.setBrkRegion(HEAP, HEAP + 4096); // brk shrink zeroes the rest
    m.rollback();
    m.setBrkRegion(HEAP, HEAP + 2 ** 20);
    expect([m.rd(HEAP + 0x10), m.rd(LIBC + 0x60), m.rd(MMAP + 0x10), m.rdLo(MMAP + 4096 + 8), m.rd(HEAP + 0x200)]).toEqual([5, 6, 7, 0x22222222, 0]);
    const h1 = m.digest();
    expect([h1.lo, h1.hi]).toEqual(before);
    m.wr(HEAP + 0x10, 6);
    const h2 = m.digest();
    expect([h2.lo, h2.hi]).not.toEqual(before);
  });
});
