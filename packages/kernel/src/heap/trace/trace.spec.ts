// heaptrace v1: parsing every line kind, formatting back, the comparator's rules, and a replay
// of a trace that heapprog-run recorded on glibc 2.36 (embedded below, so no file is needed).
import { describe, expect, it } from 'vitest';
import { compareTraces } from './compare.js';
import { runHeapProgram } from './heapprog.js';
import { formatTrace, parseTrace } from './parse.js';
import { replayTrace } from './replay.js';
import { Op } from './types.js';

// heapprog-run on Debian 12 (glibc 2.36-9+deb12u14) with this program:
//   malloc h0 117 / write h0 0 117 / free h0 / memalign h1 8192 80 / write h1 37 8 /
//   malloc h2 62093 / malloc h3 909 / free h3 / malloc h4 299698 / malloc h5 255 /
//   realloc h5 3000 / write h5 0 3000 / calloc h6 3 1000 / mallopt -3 65536 /
//   malloc_trim 0 / free h4
const RECORDED = `# heaptrace v1 glibc=2.36 from heapprog-run
heap_base 0x55bb2864d000
malloc 117 = 0x55bb2864d2a0
write 0x55bb2864d2a0 0 117
free 0x55bb2864d2a0
memalign 8192 80 = 0x55bb2864e000
write 0x55bb2864e000 37 8
malloc 62093 = 0x55bb2864e060
malloc 909 = 0x55bb2864d320
free 0x55bb2864d320
malloc 299698 = 0x7f4452c16010
malloc 255 = 0x55bb2864d6c0
realloc 0x55bb2864d6c0 3000 = 0x55bb2865d300
write 0x55bb2865d300 0 3000
calloc 3 1000 = 0x55bb2865dec0
mallopt -3 65536 = 1
malloc_trim 0 = 1
free 0x7f4452c16010
mallinfo2 arena=73728 ordblks=2 smblks=0 hblks=0 hblkhd=0 usmblks=0 fsmblks=0 uordblks=70208 fordblks=3520 keepcost=1424
final_brk 0x55bb2865f000
resident heap_pages=5 mmap_pages=0
`;

describe('parse and format', () => {
  it('reads every line kind, thread prefixes included, and writes the same text back', () => {
    const text = [
      '# heaptrace v1 glibc=2.36',
      'heap_base 0x1000',
      'malloc 10 = 0x12a0',
      't77 calloc 2 3 = 0x12c0',
      'realloc 0x0 5 = 0x12e0',
      'free 0x12a0',
      'memalign 64 10 = 0x1340',
      'aligned_alloc 64 10 = 0x1380',
      'posix_memalign 64 10 = 0x0',
      'valloc 5 = 0x2000',
      'pvalloc 5 = 0x3000',
      'mallopt -3 65536 = 1',
      'malloc_trim 0 = 0',
      'write 0x12c0 1 5',
      'mallinfo2 arena=1 ordblks=2 smblks=3 hblks=4 hblkhd=5 usmblks=6 fsmblks=7 uordblks=8 fordblks=9 keepcost=10',
      'final_brk 0x22000',
      'resident heap_pages=3 mmap_pages=4',
      '',
    ].join('\n');
    const t = parseTrace(text);
    expect(t.heapBase).toBe(0x1000);
    expect(t.calls.length).toBe(12);
    expect(t.calls.op[1]).toBe(Op.Calloc);
    expect(t.calls.tid[1]).toBe(77);
    expect(t.calls.a[9]).toBe(-3);
    expect(t.mallinfo2?.keepcost).toBe(10);
    expect(t.resident).toEqual({ heapPages: 3, mmapPages: 4 });
    expect(formatTrace(t)).toBe(text);
  });
});

describe('compare (heapcmp.py rules)', () => {
  const base = parseTrace(RECORDED);
  it('accepts a trace against itself, and the same calls at other absolute addresses', () => {
    expect(compareTraces(base, base).ok).toBe(true);
    const moved = parseTrace(RECORDED.replaceAll('0x55bb2864', '0x77772864').replaceAll('0x55bb2865', '0x77772865'));
    expect(compareTraces(base, moved).ok).toBe(true);
  });
  it('names the first result at another offset', () => {
    const other = parseTrace(RECORDED.replace('malloc 909 = 0x55bb2864d320', 'malloc 909 = 0x55bb2864d330').replace('free 0x55bb2864d320', 'free 0x55bb2864d330'));
    const c = compareTraces(base, other);
    expect(c.ok).toBe(false);
    expect(c.firstMismatch).toMatchObject({ op: 6, real: '0x320', sim: '0x330' });
  });
  it('insists on mallinfo2 and resident pages', () => {
    expect(compareTraces(base, parseTrace(RECORDED.replace('keepcost=1424', 'keepcost=1'))).mallinfo2Equal).toBe(false);
    expect(compareTraces(base, parseTrace(RECORDED.replace('heap_pages=5', 'heap_pages=6'))).residentEqual).toBe(false);
  });
});

describe('replay', () => {
  it('replays the recorded program exactly: addresses, mallinfo2, residency', () => {
    const real = parseTrace(RECORDED);
    const r = replayTrace(real);
    expect(r.died).toBeNull();
    const c = compareTraces(real, r.trace);
    expect(c).toMatchObject({ ok: true, resultsCompared: 10, resultsMatched: 10 });
  });

  it('runHeapProgram gives the same trace as heapprog-run', () => {
    const prog = [
      'malloc h0 117', 'write h0 0 117', 'free h0', 'memalign h1 8192 80', 'write h1 37 8', 'malloc h2 62093', 'malloc h3 909', 'free h3',
      'malloc h4 299698', 'malloc h5 255', 'realloc h5 3000', 'write h5 0 3000', 'calloc h6 3 1000', 'mallopt -3 65536', 'malloc_trim 0', 'free h4',
    ].join('\n');
    const run = runHeapProgram(prog, { heapBase: 0x55bb2864d000 });
    expect(run.died).toBeNull();
    expect(compareTraces(parseTrace(RECORDED), run.trace).ok).toBe(true);
  });
});
