// tools/heaptrace/gen-heapprog.ts: the same seed gives the same program, programs are valid for
// heapprog (writes inside their block, frees of live handles), and the sizes reach the glibc
// boundaries the generator promises to cover.

import { describe, expect, it } from 'vitest';
import { generateHeapProgram, HEAP_PROGRAM_PROFILES } from '../../tools/heaptrace/gen-heapprog.js';

/** Runs a program over handle sizes only, as heapprog would, and returns what it saw. */
function check(program: string) {
  const size = new Map<number, number>();
  const requests: number[] = [];
  const ops = new Set<string>();
  const mallopts = new Set<string>();
  for (const line of program.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const w = line.split(' ');
    ops.add(w[0]);
    const h = (s: string): number => Number(s.slice(1));
    switch (w[0]) {
      case 'malloc': case 'valloc': case 'pvalloc':
        requests.push(Number(w[2]));
        if (Number(w[2]) < 2 ** 47) size.set(h(w[1]), Number(w[2]));
        break;
      case 'calloc':
        if (Number(w[2]) * Number(w[3]) < 2 ** 47) size.set(h(w[1]), Number(w[2]) * Number(w[3]));
        break;
      case 'memalign': case 'aligned_alloc': case 'posix_memalign':
        requests.push(Number(w[3]));
        if (w[0] !== 'posix_memalign' || (Number(w[2]) % 8 === 0 && (Number(w[2]) & (Number(w[2]) - 1)) === 0)) size.set(h(w[1]), Number(w[3]));
        break;
      case 'realloc': {
        const n = Number(w[2]);
        requests.push(n);
        if (n === 0) size.delete(h(w[1]));
        else if (n < 2 ** 47) size.set(h(w[1]), n);
        break;
      }
      case 'free':
        expect(size.has(h(w[1])), line).toBe(true);
        size.delete(h(w[1]));
        break;
      case 'write': {
        const n = size.get(h(w[1]));
        expect(n, line).toBeDefined();
        expect(Number(w[2]) + Number(w[3]), line).toBeLessThanOrEqual(n!);
        break;
      }
      case 'mallopt': mallopts.add(w[1]); break;
      case 'malloc_trim': break;
      default: throw new Error(`unknown line ${line}`);
    }
  }
  return { requests, ops, mallopts };
}

describe('gen-heapprog', () => {
  it('gives the same program for the same seed and profile, another for another seed', () => {
    expect(generateHeapProgram({ seed: 42, ops: 500 })).toBe(generateHeapProgram({ seed: 42, ops: 500 }));
    expect(generateHeapProgram({ seed: 42, ops: 500 })).not.toBe(generateHeapProgram({ seed: 43, ops: 500 }));
    expect(generateHeapProgram({ seed: 42, ops: 500, profile: 'small' })).not.toBe(generateHeapProgram({ seed: 42, ops: 500 }));
  });

  it.each(HEAP_PROGRAM_PROFILES.map((p) => [p]))('%s: writes stay inside blocks, frees name live handles', (profile) => {
    for (const seed of [1, 2, 3]) check(generateHeapProgram({ seed, profile, ops: 1500 }));
  });

  it('a mixed program reaches every boundary band and every kind of call', () => {
    const { requests, ops, mallopts } = check(generateHeapProgram({ seed: 1, ops: 3000 }));
    const some = (lo: number, hi: number) => requests.some((n) => n >= lo && n <= hi);
    expect(some(0, 24)).toBe(true); // MINSIZE chunk
    expect(some(105, 120) && some(121, 136)).toBe(true); // last fastbin chunk 0x80 and the next
    expect(some(1001, 1016) && some(1025, 1032) && some(1033, 1048)).toBe(true); // first large bin, last tcache, past it
    expect(some(131049, 131072) || (some(126 * 1024, 131048) && some(131073, 136 * 1024))).toBe(true); // the mmap threshold
    expect(some(4 * 2 ** 20, 40 * 2 ** 20)).toBe(true);
    for (const op of ['malloc', 'calloc', 'realloc', 'free', 'memalign', 'aligned_alloc', 'posix_memalign', 'valloc', 'pvalloc', 'write', 'mallopt', 'malloc_trim']) {
      expect(ops.has(op), op).toBe(true);
    }
    expect(requests).toContain(0); // realloc to 0 (or malloc(0))
    expect([...mallopts].sort()).toEqual(expect.arrayContaining(['-1', '-3', '1']));
  });

  it('tuned programs set top pad, mmap max and perturb; edge programs make calls that fail', () => {
    const tuned = check(generateHeapProgram({ seed: 7, profile: 'tuned', ops: 2000 }));
    expect([...tuned.mallopts]).toEqual(expect.arrayContaining(['-2', '-4', '-6']));
    const edge = generateHeapProgram({ seed: 9, profile: 'edge', ops: 2000 });
    expect(edge).toMatch(/^malloc h\d+ 1125899906842624$/m);
    expect(edge).toMatch(/^calloc h\d+ 4294967296 4294967296$/m);
    expect(edge).toMatch(/^posix_memalign h\d+ 24 100$/m);
  });
});
