// The heap map of a real simulated heap: inspectHeap() -> toHeapMap() -> renderHeapSvg(). The
// legend must account for every chunk the inspection saw, and the brk heap for every byte of
// the arena (mallinfo2's arena), whatever the drawing merges.
import { describe, expect, it } from 'vitest';
import { inspectHeap, toHeapMap } from '../inspect.js';
import { Ptmalloc } from '../ptmalloc.js';
import { LocalSys } from '../trace/local-sys.js';
import { layoutHeap } from './layout.js';
import { renderHeapSvg } from './render.js';

const BASE = 0x555555559000;

function fragmentedHeap(): Ptmalloc {
  const pm = new Ptmalloc({ brkStart: BASE, cpus: 2 }, new LocalSys({ brkStart: BASE }));
  // The article's experiment, smaller: 200 blocks of 1000 bytes, every other one freed (7 go
  // to the tcache, the rest to the unsorted bin and, after a large request, their small bin),
  // two mmapped blocks, and 40 fastbin-sized blocks freed (7 to the tcache, 33 to a fastbin).
  const blocks: number[] = [];
  for (let i = 0; i < 200; i++) blocks.push(pm.malloc(0, 1000));
  const small: number[] = [];
  for (let i = 0; i < 40; i++) small.push(pm.malloc(0, 40));
  for (let i = 0; i < 200; i += 2) pm.free(0, blocks[i]);
  pm.malloc(0, 5000); // sorts the unsorted 1000-byte chunks into their small bin
  pm.malloc(0, 200000);
  pm.malloc(0, 300000);
  // last: a large request (>= 1024) would consolidate the fastbins
  for (const p of small) pm.free(0, p);
  return pm;
}

describe('heap map of an inspected heap', () => {
  const pm = fragmentedHeap();
  const view = inspectHeap(pm.heap);
  const map = toHeapMap(view);
  const svg = renderHeapSvg(map, { title: 'fragmented' });

  it('counts in the legend every chunk of every kind the inspection reports', () => {
    const counts = new Map<string, number>();
    for (const r of map.regions) for (const c of r.chunks) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
    expect(counts.get('tcache')).toBe(14); // 7 of 1000 bytes, 7 of 40 bytes
    expect(counts.get('fastbin')).toBe(33); // the other 40-byte chunks: never coalesced
    expect(counts.get('small')).toBe(93); // the other 1000-byte chunks (0x3f0), none adjacent
    expect(counts.get('mmapped')).toBe(2);
    expect(counts.get('top')).toBe(1);
    for (const [kind, n] of counts) {
      const label = { 'in-use': 'in use', tcache: 'free: tcache', fastbin: 'free: fastbin', unsorted: 'free: unsorted bin', small: 'free: small bin', large: 'free: large bin', top: 'top chunk', mmapped: 'mmapped chunk (in use)', meta: 'allocator metadata / padding' }[kind];
      expect(svg, kind).toContain(`${label}: ${n} (`);
    }
  });

  it('draws the whole brk heap: the pieces cover exactly mallinfo2 arena bytes', () => {
    const l = layoutHeap(map, { width: 1200, maxRows: 240, minChunkPx: 3 });
    const brk = l.sections.find((s) => s.kind === 'brk');
    expect(brk).toBeDefined();
    const bytes = brk!.pieces.reduce((n, p) => n + p.size, 0);
    expect(bytes).toBe(pm.mallinfo2(0).arena);
    expect(brk!.start).toBe(BASE);
  });

  it('marks a gap only between mmapped chunks that are not adjacent', () => {
    const l = layoutHeap(map, { width: 1200, maxRows: 240, minChunkPx: 3 });
    const mm = map.regions.filter((r) => r.kind === 'mmapped').sort((a, b) => a.start - b.start);
    const gaps = mm.slice(1).filter((r, i) => r.start !== mm[i].end).length;
    expect(l.gapMarks).toHaveLength(gaps);
  });
});
