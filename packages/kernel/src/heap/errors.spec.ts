// How corrupted heaps end, as glibc 2.36 ended them on this machine: each program below was run
// there (heapprog-run's language; freeing a handle keeps its pointer, so it can be freed twice;
// `write` stores 0xa5 bytes) and printed the message, or died of SIGSEGV (exit 139), or hung.
import { describe, expect, it } from 'vitest';
import { runHeapProgram } from './trace/heapprog.js';

const run = (lines: string[]) => runHeapProgram(lines.join('\n'), { keepFreedHandles: true }).died;

/** Seven chunks of the same size filling their tcache bin, then the program's own lines. */
const tcacheFull = (size: number, extra: string[]) => [
  ...Array.from({ length: 9 }, (_, i) => `malloc h${i} ${size}`),
  ...Array.from({ length: 7 }, (_, i) => `free h${i + 1}`),
  ...extra,
];

describe('glibc aborts with its own message', () => {
  it.each<[string, string[], string]>([
    ['a double free into the tcache', ['malloc h0 24', 'free h0', 'free h0'], 'free(): double free detected in tcache 2'],
    ['a double free at the top of a fastbin', tcacheFull(24, ['free h0', 'free h0']), 'double free or corruption (fasttop)'],
    ['a double free of a small chunk', ['malloc h0 2000', 'malloc h1 100', 'free h0', 'free h0'], 'double free or corruption (!prev)'],
    ['a double free of a large chunk', ['malloc h0 5000', 'malloc h1 100', 'free h0', 'free h0'], 'double free or corruption (!prev)'],
    ['a double free of a chunk merged into top', ['malloc h0 2000', 'free h0', 'free h0'], 'double free or corruption (top)'],
    ['an overflow into the top size', ['malloc h0 24', 'write h0 24 8', 'malloc h1 5000'], 'malloc(): corrupted top size'],
    ['an overflow over the next header', ['malloc h0 24', 'write h0 0 40', 'malloc h1 5000'], 'malloc(): corrupted top size'],
    ['a use after free of a tcache link', ['malloc h0 24', 'malloc h1 24', 'free h0', 'free h1', 'write h1 0 8', 'malloc h2 24', 'malloc h3 24'], 'malloc(): unaligned tcache chunk detected'],
    ['a realloc after an overflow', ['malloc h0 100', 'write h0 0 120', 'realloc h0 200'], 'realloc(): invalid next size'],
  ])('%s', (_what, lines, message) => {
    expect(run(lines)).toBe(message);
  });
});

describe('or dies of SIGSEGV, where glibc follows a corrupted pointer', () => {
  it.each<[string, string[]]>([
    ['NON_MAIN_ARENA set by a one-byte overflow (heap_for_ptr reads unmapped memory)', ['malloc h0 24', 'malloc h1 24', 'write h0 0 33', 'free h1']],
    ['a double free of an mmapped chunk', ['malloc h0 200000', 'free h0', 'free h0']],
    ['an unsorted chunk whose links were overwritten', ['malloc h0 2000', 'malloc h1 100', 'free h0', 'write h0 0 16', 'malloc h2 3000']],
    ['a large overflow over the next chunk', ['malloc h0 2000', 'malloc h1 2000', 'malloc h2 100', 'write h0 0 2010', 'free h1']],
  ])('%s', (_what, lines) => {
    expect(run(lines)).toBe('SIGSEGV');
  });
});

describe('or hangs', () => {
  it('a fastbin made into a cycle by a double free behind another chunk: mallinfo2 walks it forever', () => {
    expect(run(tcacheFull(24, ['free h0', 'free h8', 'free h0']))).toBe('hang');
  });
});

describe('or lives on', () => {
  it('a use after free that does not touch a link (real: exit 0)', () => {
    expect(run(['malloc h0 24', 'malloc h1 24', 'free h0', 'free h1'])).toBeNull();
    expect(run(['malloc h0 2000', 'malloc h1 2000', 'malloc h2 100', 'free h0', 'write h1 0 2000', 'free h1'])).toBeNull();
  });
  it('a misaligned free is an invalid pointer', () => {
    const r = runHeapProgram('malloc h0 100\n', { keepFreedHandles: true });
    expect(() => r.ptmalloc.free(1, r.trace.calls.result[0] + 8)).toThrow();
    expect(r.ptmalloc.heap.dead).toBe('abort: free(): invalid pointer');
  });
});
