// The recorded fixtures, checked without the model: each is a complete, self-consistent
// heaptrace v1, and the fragmentation experiment ends where the reference notes say glibc 2.36
// ends (/work/shared/reference/ptmalloc-2.36.md, table "The article's fragmentation
// experiment", measured there independently of our recorder).

import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, listTraces, mallinfo2Of, readTraceText } from './heaptrace-support.js';

const fixtures = listTraces(FIXTURES_DIR);

const CALL = /^(?:t\d+ )?(malloc|calloc|realloc|free|memalign|posix_memalign|valloc|pvalloc|mallopt|malloc_trim)( .*)?$/;

describe('heaptrace fixtures are complete and self-consistent', () => {
  it('are there: programs, the frag experiment, generated heap programs, a second thread', () => {
    const names = fixtures.map((f) => f.name);
    expect(names.filter((n) => n.startsWith('frag-'))).toHaveLength(8);
    expect(names.filter((n) => n.startsWith('prog-')).length).toBeGreaterThanOrEqual(10);
    for (const n of ['ls', 'grep', 'sed', 'sort', 'tar', 'diff', 'awk', 'find', 'make', 'threads']) expect(names).toContain(n);
  });

  it.each(fixtures.map((f) => [f.name, f.path]))('%s: header, heap_base, calls naming live blocks, mallinfo2, final_brk', (name, path) => {
    const lines = readTraceText(path).split('\n');
    expect(lines[0]).toMatch(/^# heaptrace v1 glibc=2\.36\b/);
    const body = lines.filter((l) => l !== '' && !l.startsWith('#'));
    expect(body[0]).toMatch(/^heap_base 0x[0-9a-f]+$/);
    const isProgram = name.startsWith('prog-');
    const tail = isProgram ? 3 : 2;
    expect(body[body.length - tail]).toMatch(/^mallinfo2 arena=\d+ ordblks=\d+ smblks=\d+ hblks=\d+ hblkhd=\d+ usmblks=\d+ fsmblks=\d+ uordblks=\d+ fordblks=\d+ keepcost=\d+$/);
    expect(body[body.length - tail + 1]).toMatch(/^final_brk 0x[0-9a-f]+$/);
    if (isProgram) expect(body[body.length - 1]).toMatch(/^resident heap_pages=\d+ mmap_pages=\d+$/);

    // Replaying needs every free/realloc/write to name a block some earlier call returned and
    // nothing freed since; a recorder that lost or reordered a line breaks this.
    const live = new Set<string>();
    for (const line of body.slice(1, body.length - tail)) {
      if (line.startsWith('write ')) {
        expect(live.has(line.split(' ')[1]), line).toBe(true);
        continue;
      }
      const m = CALL.exec(line);
      expect(m, line).not.toBeNull();
      const words = line.replace(/^t\d+ /, '').split(' ');
      const result = words.includes('=') ? words[words.length - 1] : undefined;
      if (words[0] === 'free') {
        expect(live.delete(words[1]), line).toBe(true);
        continue;
      }
      if (words[0] === 'realloc' && words[1] !== '0x0') {
        expect(live.has(words[1]), line).toBe(true);
        // realloc(p, 0) frees p; a failed realloc (NULL for n > 0) leaves p alone
        if (result !== '0x0' || words[2] === '0') live.delete(words[1]);
      }
      if (words[0] !== 'mallopt' && words[0] !== 'malloc_trim' && result !== undefined && result !== '0x0') {
        expect(live.has(result), `${line}: returned twice without a free`).toBe(false);
        live.add(result);
      }
    }
  });
});

describe('the frag fixtures end as the reference table says (after malloc_trim(0))', () => {
  const final = (name: string): Record<string, number> => {
    const f = fixtures.find((x) => x.name === name);
    if (!f) throw new Error(`no fixture ${name}`);
    const m = mallinfo2Of(readTraceText(f.path));
    if (!m) throw new Error(`${name} has no mallinfo2`);
    return m;
  };
  it.each([
    ['frag-m1-s1000', 1019904, 500176, 3232],
    ['frag-m2-s1000', 1019904, 500176, 3232],
    ['frag-m1-s4000', 4026368, 2009696, 1696],
    ['frag-m2-s4000', 2019328, 2656, 2656],
  ])('%s: arena %d, fordblks %d, keepcost %d', (name, arena, fordblks, keepcost) => {
    expect(final(name)).toMatchObject({ arena, fordblks, keepcost });
  });
  it.each(['frag-m1-s200000', 'frag-m2-s200000'])('%s: 500 mmapped blocks, the heap trimmed to 12288', (name) => {
    expect(final(name)).toMatchObject({ arena: 12288, hblks: 500, hblkhd: 100352000 });
  });
  it('each frag trace is calloc(1000, 8), 1000 mallocs, 500 frees, malloc_trim(0)', () => {
    for (const f of fixtures.filter((x) => x.name.startsWith('frag-'))) {
      const calls = readTraceText(f.path).split('\n').filter((l) => CALL.test(l));
      expect(calls[0]).toMatch(/^calloc 1000 8 = /);
      expect(calls.filter((l) => l.startsWith('malloc '))).toHaveLength(1000);
      expect(calls.filter((l) => l.startsWith('free '))).toHaveLength(500);
      expect(calls[calls.length - 1]).toBe('malloc_trim 0 = 1');
      expect(calls).toHaveLength(1502);
    }
  });
});
