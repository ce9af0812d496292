// The recorder (tools/heaptrace/recorder.c) and the heap program runner (heapprog.c), checked
// against ground truth: what a program says about its own calls, and hand-computed facts of
// glibc 2.36. Needs a C compiler; skips without one.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCTool, HEAPPROG, noAslrPrefix, RECORDER, SELFREPORT } from '../../packages/cli/src/commands/heap/c-toolchain.js';
import { generateHeapProgram } from '../../tools/heaptrace/gen-heapprog.js';
import { hasCompiler } from './heaptrace-support.js';

const PATH = process.env.PATH ?? '/usr/bin:/bin';

interface Run {
  readonly stdout: string;
  /** fd 3 of the program */
  readonly fd3: string;
  /** trace files written, by name */
  readonly traces: Record<string, string>;
}

/** Lines that are calls or end-of-trace facts: no comments. */
const significant = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/** Replaces addresses by their offset from heap_base (inside the brk heap) or "mmapped". */
function byOffset(lines: readonly string[]): string[] {
  const base = Number.parseInt(lines.find((l) => l.startsWith('heap_base '))!.split(' ')[1], 16);
  const end = Number.parseInt(lines.find((l) => l.startsWith('final_brk '))!.split(' ')[1], 16);
  return lines.map((l) =>
    l
      .replace(/^t\d+ /, 'tN ')
      .replace(/0x[0-9a-f]+/g, (hex) => {
        const a = Number.parseInt(hex, 16);
        if (a === 0) return 'NULL';
        return a >= base && a < end ? `+${(a - base).toString(16)}` : 'mmapped';
      }),
  );
}

describe.skipIf(!hasCompiler())('heaptrace recorder and heapprog against ground truth', () => {
  let work: string;
  let library: string;
  let selfreport: string;
  let heapprog: string;
  let noAslr: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'mmsim-recorder-spec-'));
    const cache = join(work, 'cache');
    library = buildCTool(RECORDER, { cache });
    selfreport = buildCTool(SELFREPORT, { cache });
    heapprog = buildCTool(HEAPPROG, { cache });
    noAslr = noAslrPrefix();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  let runs = 0;
  function run(argv: readonly string[], preload: boolean): Run {
    const dir = join(work, `run-${runs++}`);
    rmSync(dir, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', dir]);
    const env: NodeJS.ProcessEnv = { PATH, LC_ALL: 'C' };
    if (preload) Object.assign(env, { MMSIM_HEAPTRACE_OUT: join(dir, 'trace-%p.ht'), LD_PRELOAD: library });
    const full = [...noAslr, ...argv];
    const r = spawnSync(full[0], full.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const traces: Record<string, string> = {};
    for (const f of readdirSync(dir)) traces[f] = readFileSync(join(dir, f), 'utf8');
    return { stdout: r.stdout, fd3: String(r.output[3] ?? ''), traces };
  }
  const onlyTrace = (r: Run): string => {
    const names = Object.keys(r.traces);
    expect(names, 'one trace file: the forked child must not write one').toHaveLength(1);
    return r.traces[names[0]];
  };

  // The program prints each call it makes as the recorder should write it; it cannot know the
  // size ld.so asks calloc for when pthread_create allocates the thread's DTV, so that line is
  // checked for shape only.
  function expectSameAsSelfReport(r: Run): void {
    const recorded = significant(onlyTrace(r));
    const reported = significant(r.fd3);
    expect(recorded.length).toBe(reported.length);
    recorded.forEach((line, i) => {
      if (reported[i] === '? calloc from pthread_create') expect(line).toMatch(/^calloc \d+ \d+ = 0x[0-9a-f]+$/);
      else expect(line, `line ${i}`).toBe(reported[i]);
    });
  }

  it('writes exactly the calls, results, mallinfo2 and final_brk the program reports (return from main)', () => {
    const r = run([selfreport], true);
    expectSameAsSelfReport(r);
    const text = onlyTrace(r);
    expect(text.split('\n')[0]).toBe('# heaptrace v1 glibc=2.36 recorder=mmsim');
    expect(text).toMatch(/\nt\d+ malloc 4000 = 0x[0-9a-f]+\n/); // the second thread, with its tid
    expect(text).not.toContain('malloc 777'); // the forked child's call
  });

  it('writes mallinfo2 and final_brk when the program ends with _exit()', () => {
    expectSameAsSelfReport(run([selfreport, 'exit'], true));
  });

  it('does not change what glibc returns: the same heap offsets with and without the recorder', () => {
    const plain = byOffset(significant(run([selfreport], false).fd3));
    const traced = byOffset(significant(run([selfreport], true).fd3));
    expect(traced).toEqual(plain);
    expect(plain).toContain('malloc 100 = +2a0'); // after the 0x290 tcache chunk
  });

  it("records heapprog's calls exactly as heapprog prints them", () => {
    const program = join(work, 'prog.txt');
    writeFileSync(program, generateHeapProgram({ seed: 11, ops: 600, profile: 'edge' }));
    const r = run([heapprog, program], true);
    const printed = significant(r.stdout).filter((l) => !l.startsWith('write ') && !l.startsWith('resident '));
    expect(printed.length).toBeGreaterThan(600);
    expect(significant(onlyTrace(r))).toEqual(printed);
  });

  it('heapprog: the first block follows the tcache chunk; resident pages as counted by hand', () => {
    // malloc(100) is chunk 0x70 at heap_base+0x290 (user +0x2a0): the heap's first page holds the
    // tcache, that chunk and the top chunk's header, and nothing else is touched: 1 page of the
    // 0x21000-byte heap. malloc(200000) is mmapped: ALIGN_UP(200000 + 8 + 8, 4096) = 200704
    // bytes = 49 pages; writing all 200000 bytes (from chunk offset 16) touches every one.
    const program = join(work, 'facts.txt');
    writeFileSync(program, 'malloc h1 100\nwrite h1 0 100\nmalloc h2 200000\nwrite h2 0 200000\n');
    const lines = significant(run([heapprog, program], false).stdout);
    const base = Number.parseInt(lines[0].split(' ')[1], 16);
    expect(lines[0]).toMatch(/^heap_base 0x[0-9a-f]+$/);
    expect(lines[1]).toBe(`malloc 100 = 0x${(base + 0x2a0).toString(16)}`);
    expect(lines).toContain(`final_brk 0x${(base + 0x21000).toString(16)}`);
    expect(lines[lines.length - 1]).toBe('resident heap_pages=1 mmap_pages=49');
    expect(lines.find((l) => l.startsWith('mallinfo2 '))).toBe(
      // arena 0x21000; in use: tcache 0x290 + 0x70; one mmapped chunk of 200704
      'mallinfo2 arena=135168 ordblks=1 smblks=0 hblks=1 hblkhd=200704 usmblks=0 fsmblks=0 ' +
        `uordblks=${0x290 + 0x70} fordblks=${135168 - 0x290 - 0x70} keepcost=${135168 - 0x290 - 0x70}`,
    );
  });
});
