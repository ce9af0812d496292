// The article's fragmentation experiment (programs/frag.c, N = 1000) and malloc_trim, against
// the table measured on glibc 2.36 in the reference notes (ptmalloc-2.36.md): mode 1 frees
// every other block, mode 2 frees the newest half, newest first.
import { describe, expect, it } from 'vitest';
import { Ptmalloc } from './ptmalloc.js';
import { LocalSys } from './trace/local-sys.js';

const BASE = 0x563c7dfab000;

function frag(mode: 1 | 2, size: number) {
  const sys = new LocalSys({ brkStart: BASE });
  const pm = new Ptmalloc({ brkStart: BASE, cpus: 2 }, sys);
  const n = 1000;
  pm.calloc(0, n, 8);
  const start = pm.mallinfo2(0);
  const p: number[] = [];
  for (let i = 0; i < n; i++) p.push(pm.malloc(0, size));
  if (mode === 1) for (let i = 0; i < n; i += 2) pm.free(0, p[i]);
  else for (let i = n - 1; i >= n / 2; i--) pm.free(0, p[i]);
  const freed = pm.mallinfo2(0);
  const r = pm.mallocTrim(0, 0);
  const trimmed = pm.mallinfo2(0);
  return { start, freed, r, trimmed, sys };
}

describe('frag experiment (reference table)', () => {
  it('starts from arena 135168, uordblks 8672 (the pointer table and the tcache)', () => {
    expect(frag(1, 1000).start).toMatchObject({ arena: 135168, uordblks: 8672 });
  });

  it.each<[1 | 2, number, [number, number, number, number], [number, number, number]]>([
    [1, 1000, [1081344, 494, 519728, 561616], [1019904, 500176, 3232]],
    [2, 1000, [1081344, 2, 519728, 561616], [1019904, 500176, 3232]],
    [1, 4000, [4055040, 501, 2016672, 2038368], [4026368, 2009696, 1696]],
    [2, 4000, [2150400, 1, 2016672, 133728], [2019328, 2656, 2656]],
  ])('mode %i size %i', (mode, size, [arena, ordblks, uordblks, fordblks], [tArena, tFord, tKeep]) => {
    const f = frag(mode, size);
    expect(f.freed).toMatchObject({ arena, ordblks, uordblks, fordblks });
    expect(f.r).toBe(1);
    expect(f.trimmed).toMatchObject({ arena: tArena, fordblks: tFord, keepcost: tKeep });
  });

  it.each<[1 | 2]>([[1], [2]])('size 200000 mode %i: 500 mmapped chunks left, the heap trimmed to 12288', (mode) => {
    const f = frag(mode, 200000);
    expect(f.freed).toMatchObject({ hblks: 500, hblkhd: 100352000 });
    expect(f.trimmed.arena).toBe(12288);
  });

  it('malloc_trim gives back the free pages inside binned chunks (MADV_DONTNEED): residency drops', () => {
    const sys = new LocalSys({ brkStart: BASE });
    const pm = new Ptmalloc({ brkStart: BASE, cpus: 2 }, sys);
    const a = pm.malloc(0, 60000);
    pm.write(0, a, 0, 60000);
    const guard = pm.malloc(0, 100);
    pm.free(0, a);
    const heapPages = () => sys.residentPages(BASE, sys.brkCurrent - BASE);
    const before = heapPages();
    // the freed chunk (60016 bytes at +0x2a0) keeps its header page and its last partial page;
    // the 13 whole pages from +0x1000 to +0xe000 go
    expect(pm.mallocTrim(0, 0)).toBe(1);
    expect(before - heapPages()).toBe(13);
    void guard;
  });
});
