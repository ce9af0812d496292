// The allocator against facts measured on this machine's glibc (Debian 12, 2.36-9+deb12u14):
// each expectation below is what a C program printed there (offsets from the initial program
// break, mallinfo2, brk), unless it says it comes from the reference notes.
import { describe, expect, it } from 'vitest';
import { Ptmalloc } from './ptmalloc.js';
import { LocalSys } from './trace/local-sys.js';

const BASE = 0x555555559000;
const MiB = 1 << 20;

function proc(env: string[] = []) {
  const sys = new LocalSys({ brkStart: BASE });
  const pm = new Ptmalloc({ brkStart: BASE, cpus: 2, env }, sys);
  const off = (p: number): string => (p === 0 ? 'NULL' : p >= BASE && p < BASE + 2 ** 32 ? '+0x' + (p - BASE).toString(16) : 'mmapped');
  const brk = (): string => '+0x' + (sys.brkCurrent - BASE).toString(16);
  const mi = () => pm.mallinfo2(1);
  return { pm, sys, off, brk, mi, malloc: (n: number) => pm.malloc(1, n), free: (p: number) => pm.free(1, p) };
}

describe('the first allocation', () => {
  it('puts the 0x290 tcache struct first, so malloc(24) is at +0x2a0 in a 0x21000 heap', () => {
    const t = proc();
    expect(t.off(t.malloc(24))).toBe('+0x2a0');
    expect(t.brk()).toBe('+0x21000');
    expect(t.mi()).toMatchObject({ arena: 135168, ordblks: 1, uordblks: 688, fordblks: 134480, keepcost: 134480 });
  });

  it('grows the brk heap in steps of top_pad + the request, page-aligned', () => {
    const t = proc();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push(`${t.off(t.malloc(100000))} ${t.brk()} ${t.mi().arena}`);
    expect(seen).toEqual([
      '+0x2a0 +0x21000 135168',
      '+0x18950 +0x52000 335872',
      '+0x31000 +0x52000 335872',
      '+0x496b0 +0x82000 532480',
      '+0x61d60 +0x82000 532480',
    ]);
  });
});

describe('a break that is not 16-aligned', () => {
  it('gets a second sbrk that aligns the top and rounds the break to a page (measured: sbrk(0x123) first)', () => {
    const start = BASE + 0x123;
    const sys = new LocalSys({ brkStart: start });
    const pm = new Ptmalloc({ brkStart: start, cpus: 2 }, sys);
    const p = pm.malloc(1, 24);
    expect(p - start).toBe(0x2ad);
    expect(sys.brkCurrent - start).toBe(0x21edd);
    expect(pm.mallinfo2(1)).toMatchObject({ arena: 138973, keepcost: 138272, uordblks: 701 });
  });
});

describe('mmap threshold', () => {
  it('malloc(132000) is served from the 134512-byte top; the second one is mmapped', () => {
    const t = proc();
    expect(t.off(t.malloc(132000))).toBe('+0x2a0');
    expect(t.off(t.malloc(132000))).toBe('mmapped');
    expect(t.mi()).toMatchObject({ arena: 135168, hblks: 1, hblkhd: 135168, uordblks: 132672, fordblks: 2496 });
  });

  it('sizes mmapped chunks as ALIGN_UP(nb + 8, 4096)', () => {
    const t = proc();
    t.malloc(132000);
    const a = t.malloc(200000);
    expect(t.mi().hblkhd).toBe(200704);
    const b = t.malloc(131049);
    expect(t.off(b)).toBe('mmapped');
    expect(t.mi()).toMatchObject({ hblks: 2, hblkhd: 335872 });
    expect(t.pm.mallocUsableSize(1, a)).toBe(200688);
    expect(t.pm.mallocUsableSize(1, b)).toBe(135152);
  });

  it.each([
    [20, '+0x2a0'],
    [31, '+0x2a0'],
    [33, 'mmapped'],
    [40, 'mmapped'],
  ])('freeing a %i MiB mmapped chunk puts a later 10 MiB malloc at %s', (mb, where) => {
    const t = proc();
    const p = t.malloc(mb * MiB);
    expect(t.off(p)).toBe('mmapped');
    t.free(p);
    expect(t.off(t.malloc(10 * MiB))).toBe(where);
  });

  it('realloc of an mmapped chunk remaps it (40 -> 48 MiB: 50335744 bytes; -> 100 bytes: one page)', () => {
    const t = proc();
    let p = t.malloc(40 * MiB);
    expect(t.mi().hblkhd).toBe(41947136);
    p = t.pm.realloc(1, p, 48 * MiB);
    expect(t.mi().hblkhd).toBe(50335744);
    p = t.pm.realloc(1, p, 100);
    expect(t.mi()).toMatchObject({ hblks: 1, hblkhd: 4096 });
    expect(t.pm.mallocUsableSize(1, p)).toBe(4080);
  });
});

describe('tcache, calloc and realloc', () => {
  it('calloc bypasses the tcache (2.36): the freed chunk stays for the next malloc', () => {
    const t = proc();
    const a = t.malloc(24);
    expect(t.off(a)).toBe('+0x2a0');
    t.free(a);
    expect(t.off(t.pm.calloc(1, 1, 24))).toBe('+0x2c0');
    expect(t.off(t.malloc(24))).toBe('+0x2a0');
  });

  it('realloc shrinks in place, grows into top, into a free neighbour, or moves; realloc(p, 0) frees', () => {
    const t = proc();
    const a = t.malloc(100), b = t.malloc(100);
    expect([t.off(a), t.off(b)]).toEqual(['+0x2a0', '+0x310']);
    expect(t.off(t.pm.realloc(1, a, 50))).toBe('+0x2a0');
    expect(t.off(t.pm.realloc(1, b, 300))).toBe('+0x310');
    const c = t.malloc(100), d = t.malloc(100);
    t.free(d);
    const e = t.malloc(1500);
    t.malloc(100);
    t.free(e);
    expect(t.off(c)).toBe('+0x450');
    expect(t.off(t.pm.realloc(1, c, 1400))).toBe('+0x530');
    const g = t.malloc(100);
    t.malloc(100);
    expect(t.off(g)).toBe('+0x450');
    const g2 = t.pm.realloc(1, g, 5000);
    expect(t.off(g2)).toBe('+0xb20');
    expect(t.pm.realloc(1, g2, 0)).toBe(0);
    expect(t.mi()).toMatchObject({ arena: 135168, ordblks: 1, uordblks: 2832, fordblks: 132336 });
  });
});

describe('consolidation', () => {
  const fill = (t: ReturnType<typeof proc>) => {
    const v: number[] = [];
    for (let i = 0; i < 20; i++) v.push(t.malloc(40));
    return v;
  };
  it('a large request consolidates the fastbins first', () => {
    const t = proc();
    const v = fill(t);
    t.malloc(10);
    for (const p of v) t.free(p);
    expect(t.mi()).toMatchObject({ smblks: 13, fsmblks: 624, ordblks: 1 });
    expect(t.off(t.malloc(2000))).toBe('+0x680');
    expect(t.mi()).toMatchObject({ smblks: 0, fsmblks: 0, ordblks: 2, uordblks: 3040 });
  });
  it('freeing a chunk that merges to >= 64 KiB consolidates', () => {
    const t = proc();
    const v = fill(t);
    const g = t.malloc(70000);
    t.malloc(10);
    for (const p of v) t.free(p);
    expect(t.mi()).toMatchObject({ smblks: 13, uordblks: 71040 });
    t.free(g);
    expect(t.mi()).toMatchObject({ smblks: 0, fsmblks: 0, ordblks: 2, uordblks: 1024, keepcost: 63504 });
  });
  it('every mallopt consolidates', () => {
    const t = proc();
    const v = fill(t);
    t.malloc(10);
    for (const p of v) t.free(p);
    expect(t.pm.mallopt(1, -1, 128 * 1024)).toBe(1);
    expect(t.mi()).toMatchObject({ smblks: 0, ordblks: 2, uordblks: 1024 });
  });
});

describe('mallopt, memalign family, malloc_stats', () => {
  it('returns what glibc returns', () => {
    const t = proc();
    expect([t.pm.mallopt(1, 1, 200), t.pm.mallopt(1, 1, 64), t.pm.mallopt(1, -8, 0), t.pm.mallopt(1, -5, 3), t.pm.mallopt(1, 1234, 5), t.pm.mallopt(1, -6, 0)]).toEqual([0, 1, 1, 1, 1, 1]);
  });
  it('pvalloc rounds with & -(pagesize - 1) (5000 -> 8193 bytes), valloc aligns to a page', () => {
    const t = proc();
    const p = t.pm.memalign(1, 'pvalloc', 0, 5000);
    expect(t.off(p)).toBe('+0x1000');
    expect(t.pm.mallocUsableSize(1, p)).toBe(8200);
    const q = t.pm.memalign(1, 'valloc', 0, 100);
    expect(t.off(q)).toBe('+0x4000');
    expect(t.pm.mallocUsableSize(1, q)).toBe(104);
  });
  it('posix_memalign refuses alignments that are not a power of two times 8', () => {
    const t = proc();
    expect(t.pm.memalignFull(1, 'posix_memalign', 3, 10)).toEqual([22, 0]);
    expect(t.pm.memalignFull(1, 'posix_memalign', 24, 100)).toEqual([22, 0]);
    const [r, p] = t.pm.memalignFull(1, 'posix_memalign', 64, 100);
    expect(r).toBe(0);
    expect(t.off(p)).toBe('+0x40');
    expect(t.off(t.pm.memalign(1, 'aligned_alloc', 256, 10))).toBe('+0x200');
    expect(t.off(t.pm.memalign(1, 'memalign', 100, 10))).toBe('+0x180');
  });
  it('malloc_stats prints what glibc prints', () => {
    const t = proc();
    t.malloc(1000);
    t.malloc(300000);
    expect(t.pm.mallocStats(1)).toBe(
      'Arena 0:\nsystem bytes     =     135168\nin use bytes     =       1664\nTotal (incl. mmap):\n' +
        'system bytes     =     438272\nin use bytes     =     304768\nmax mmap regions =          1\nmax mmap bytes   =     303104\n',
    );
  });
});

describe('tunables from the environment', () => {
  const run = (env: string[]) => {
    const t = proc(env);
    const p = t.malloc(24), q = t.malloc(5000);
    t.free(p);
    const r = t.malloc(24);
    return { offs: [t.off(p), t.off(q), t.off(r)], brk: t.brk(), mi: t.mi() };
  };
  it('MALLOC_TOP_PAD_=0 makes the first heap two pages', () => {
    const r = run(['MALLOC_TOP_PAD_=0']);
    expect(r.offs).toEqual(['+0x2a0', '+0x2c0', '+0x2a0']);
    expect(r.brk).toBe('+0x2000');
    expect(r.mi).toMatchObject({ arena: 8192, uordblks: 5696, fordblks: 2496 });
  });
  it('GLIBC_TUNABLES wins over the MALLOC_ alias, wherever it stands', () => {
    expect(run(['GLIBC_TUNABLES=glibc.malloc.top_pad=0', 'MALLOC_TOP_PAD_=65536']).brk).toBe('+0x2000');
    expect(run(['MALLOC_TOP_PAD_=65536', 'GLIBC_TUNABLES=glibc.malloc.top_pad=0']).brk).toBe('+0x2000');
  });
  it('MALLOC_MMAP_THRESHOLD_ only matters once top must grow; tcache_count=0 turns the tcache off', () => {
    expect(run(['MALLOC_MMAP_THRESHOLD_=4096']).mi).toMatchObject({ arena: 135168, uordblks: 5696, fordblks: 129472 });
    const t = proc(['GLIBC_TUNABLES=glibc.malloc.tcache_count=0']);
    const a = t.malloc(24);
    t.free(a);
    expect(t.mi()).toMatchObject({ smblks: 1, fsmblks: 32 });
  });
});

describe('from the source, computed by hand', () => {
  it('a failing brk falls back to a 1 MiB mmap that becomes a non-contiguous main heap', () => {
    const sys = new LocalSys({ brkStart: BASE, brkLimit: BASE });
    const pm = new Ptmalloc({ brkStart: BASE, cpus: 2 }, sys);
    const p = pm.malloc(1, 24);
    // sysmalloc: brk fails; sysmalloc_mmap_fallback maps max(0x21000, MMAP_AS_MORECORE_SIZE)
    // and top starts at its base; tcache struct then the chunk, as in the brk case
    expect(p % 4096).toBe(0x2a0);
    expect(p).toBeGreaterThan(BASE + 2 ** 32);
    expect(pm.mallinfo2(1)).toMatchObject({ arena: 1048576, hblks: 0, uordblks: 688 });
    expect(sys.brkCurrent).toBe(BASE);
  });

  it('MALLOC_ARENA_MAX=2: a second thread gets a new arena, the next ones take turns (reused_arena)', () => {
    const sys = new LocalSys({ brkStart: BASE });
    const pm = new Ptmalloc({ brkStart: BASE, cpus: 2, env: ['MALLOC_ARENA_MAX=2'] }, sys);
    const inBrk = (p: number) => p >= BASE && p < BASE + 2 ** 32;
    expect(inBrk(pm.malloc(1, 24))).toBe(true);
    const t2 = pm.malloc(2, 24);
    expect(inBrk(t2)).toBe(false);
    expect(t2 % 2 ** 26).toBe(0x8d0 + 0x290 + 0x10); // heap_info + malloc_state, the tcache, the block
    expect(inBrk(pm.malloc(3, 24))).toBe(true); // next_to_use starts at main_arena
    const t4 = pm.malloc(4, 24);
    expect(t4 - (t4 % 2 ** 26)).toBe(t2 - (t2 % 2 ** 26)); // then main_arena.next: the thread arena
    expect(pm.mallinfo2(1).arena).toBe(2 * 135168);
  });

  it('MALLOC_PERTURB_ fills what malloc hands out and what free takes back, so the pages become resident', () => {
    const run = (env: string[]) => {
      const sys = new LocalSys({ brkStart: BASE });
      const pm = new Ptmalloc({ brkStart: BASE, cpus: 2, env }, sys);
      const p = pm.malloc(1, 60000);
      pm.malloc(1, 10);
      pm.free(1, p);
      return sys.residentPages(BASE, sys.brkCurrent - BASE);
    };
    // without perturb only the header pages are written; with it the 60000 bytes are
    expect(run([])).toBe(2);
    expect(run(['MALLOC_PERTURB_=85'])).toBe(15);
  });
});
