import { describe, expect, it } from 'vitest';
import { layoutHeap } from './layout.js';
import { renderHeapSvg } from './render.js';
import type { HeapMap, MapChunk } from './types.js';

const BASE = 0x555555559000;

// A fresh glibc heap after a few calls (hand-built): the tcache_perthread_struct chunk (0x290),
// then chunks of every state, then top up to the 0x21000-byte break.
const chunks: MapChunk[] = [
  { addr: BASE, size: 0x290, kind: 'meta' },
  { addr: BASE + 0x290, size: 0x70, kind: 'in-use' },
  { addr: BASE + 0x300, size: 0x30, kind: 'tcache' },
  { addr: BASE + 0x330, size: 0x20, kind: 'fastbin' },
  { addr: BASE + 0x350, size: 0x410, kind: 'unsorted' },
  { addr: BASE + 0x760, size: 0x1000, kind: 'in-use' },
  { addr: BASE + 0x1760, size: 0x100, kind: 'small' },
  { addr: BASE + 0x1860, size: 0x500, kind: 'large' },
];
const topAddr = BASE + 0x1d60;
chunks.push({ addr: topAddr, size: BASE + 0x21000 - topAddr, kind: 'top' });
const small: HeapMap = {
  regions: [
    { kind: 'brk', start: BASE, end: BASE + 0x21000, chunks },
    { kind: 'mmapped', start: 0x7ffff7d87000, end: 0x7ffff7d87000 + 200704, chunks: [{ addr: 0x7ffff7d87000, size: 200704, kind: 'mmapped' }] },
    { kind: 'mmapped', start: 0x7ffff7dc0000, end: 0x7ffff7dc0000 + 135168, chunks: [{ addr: 0x7ffff7dc0000, size: 135168, kind: 'mmapped' }] },
  ],
};

/** Pieces of a kind: their first rect carries the hover title. */
const rectsOf = (svg: string, kind: string): number => (svg.match(new RegExp(`<rect class="c k-${kind}"[^>]*><title>`, 'g')) ?? []).length;

describe('renderHeapSvg on a hand-built heap', () => {
  const svg = renderHeapSvg(small, { title: 'pid 42' });

  it('is one deterministic SVG document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(renderHeapSvg(small, { title: 'pid 42' })).toBe(svg);
    expect(svg).toContain('pid 42');
  });

  it('draws every chunk once, by kind', () => {
    for (const [kind, n] of [['meta', 1], ['in-use', 2], ['tcache', 1], ['fastbin', 1], ['unsorted', 1], ['small', 1], ['large', 1], ['top', 1], ['mmapped', 2]] as const) {
      expect(rectsOf(svg, kind), kind).toBe(n);
    }
  });

  it('has a legend with counts and bytes of each kind and says how it is scaled', () => {
    expect(svg).toContain('free: tcache: 1 (48 B)');
    expect(svg).toContain('in use: 2 (4.1 KiB)'); // 0x70 + 0x1000 = 4208 B
    expect(svg).toContain('mmapped chunk (in use): 2 (328 KiB)'); // 200704 + 135168 = 335872 B
    expect(svg).toContain('every chunk is at least 3 px wide so that small chunks stay visible');
  });

  it('labels the regions and the address at the start of each row', () => {
    expect(svg).toContain(`brk heap: 0x555555559000-0x55555557a000 (132 KiB)`);
    expect(svg).toContain('mmapped chunks: 0x7ffff7d87000-0x7ffff7de1000');
    expect(svg).toMatch(/text-anchor="end">0x555555559000</);
    expect(svg).toMatch(/text-anchor="end">0x7ffff7d87000</);
  });

  it('is to scale above the minimum width, and keeps a 32-byte chunk visible', () => {
    const l = layoutHeap(small, { width: 1200, maxRows: 240, minChunkPx: 3 });
    const widthOf = (addr: number): number => l.rects.filter((r) => r.piece.addr === addr).reduce((w, r) => w + r.width, 0);
    expect(widthOf(BASE + 0x330)).toBeGreaterThanOrEqual(3);
    // 200704 vs 135168 bytes: both far above the minimum, so in the ratio of their sizes
    expect(widthOf(0x7ffff7d87000) / widthOf(0x7ffff7dc0000)).toBeCloseTo(200704 / 135168, 3);
    expect(widthOf(topAddr) / widthOf(0x7ffff7dc0000)).toBeCloseTo((BASE + 0x21000 - topAddr) / 135168, 3);
    expect(l.gapMarks).toHaveLength(1); // 0x8000 bytes between the two mmapped chunks
    expect(l.merged).toBe('none');
  });

  it('draws bytes no chunk covers as allocator metadata', () => {
    const l = layoutHeap(
      { regions: [{ kind: 'arena-heap', start: 0x7ffff0000000, end: 0x7ffff0021000, chunks: [{ addr: 0x7ffff00008b0, size: 0x20750, kind: 'top' }] }] },
      { width: 1200, maxRows: 240, minChunkPx: 3 },
    );
    const pieces = l.sections[0].pieces;
    expect(pieces.map((p) => [p.addr, p.size, p.kind])).toEqual([
      [0x7ffff0000000, 0x8b0, 'meta'],
      [0x7ffff00008b0, 0x20750, 'top'],
    ]);
  });
});

describe('renderHeapSvg on a 100 MiB heap of 200000 chunks', () => {
  const start = 0x555555559000;
  const many: MapChunk[] = [{ addr: start, size: 0x290, kind: 'meta' }];
  let at = start + 0x290;
  for (let i = 0; i < 200000; i++) {
    const size = i % 1000 === 0 ? 0x30000 : 0x100 + (i % 7) * 0x10; // mostly small, some 192 KiB
    many.push({ addr: at, size, kind: i % 3 === 0 ? 'in-use' : i % 3 === 1 ? 'tcache' : 'small' });
    at += size;
  }
  const end = start + 100 * 2 ** 20;
  many.push({ addr: at, size: end - at, kind: 'top' });
  const map: HeapMap = { regions: [{ kind: 'brk', start, end, chunks: many }] };

  it('stays within maxRows by merging small neighbours, keeps big chunks to scale, and says so', () => {
    const l = layoutHeap(map, { width: 1200, maxRows: 240, minChunkPx: 3 });
    expect(l.rows).toBeLessThanOrEqual(241);
    expect(l.merged).not.toBe('none');
    const pieces = l.sections[0].pieces;
    expect(pieces.reduce((n, p) => n + p.count, 0)).toBe(many.length);
    expect(pieces.reduce((n, p) => n + p.size, 0)).toBe(end - start); // nothing lost
    const svg = renderHeapSvg(map);
    expect(svg.length).toBeLessThan(8 * 2 ** 20);
    expect(svg).toContain('are drawn as one piece');
    // the 192 KiB chunks are not merged and are drawn in proportion to the top chunk
    const big = pieces.filter((p) => p.size === 0x30000);
    expect(big).toHaveLength(200);
    const w = (addr: number): number => l.rects.filter((r) => r.piece.addr === addr).reduce((n, r) => n + r.width, 0);
    const top = pieces[pieces.length - 1];
    expect(top.kind).toBe('top');
    expect(w(top.addr) / w(big[0].addr)).toBeCloseTo(top.size / 0x30000, 2);
  });
});
