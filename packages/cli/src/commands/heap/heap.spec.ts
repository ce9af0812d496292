import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../args.js';
import { bufferIo } from '../../io.js';
import { buildCTool, findCompiler, FRAG } from './c-toolchain.js';
import { heapRecord, HEAP_RECORD_OPTIONS, HEAP_RECORD_POSITIONALS } from './record.js';
import { heapReplay, HEAP_REPLAY_OPTIONS, HEAP_REPLAY_POSITIONALS } from './replay.js';

const FIXTURE = fileURLToPath(new URL('../../../../../test/fixtures/heaptrace/frag-m1-s100.ht.gz', import.meta.url));
const replayArgs = (argv: string[]) => parseArgs('heap replay', argv, HEAP_REPLAY_OPTIONS, HEAP_REPLAY_POSITIONALS);
const recordArgs = (argv: string[]) => parseArgs('heap record', argv, HEAP_RECORD_OPTIONS, HEAP_RECORD_POSITIONALS);
const hasCompiler = (): boolean => {
  try {
    findCompiler();
    return true;
  } catch {
    return false;
  }
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmsim-heap-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('heapReplay', () => {
  it('replays a recorded fixture, writes the sim trace and says all results matched', async () => {
    const io = bufferIo();
    const out = join(dir, 'sim.ht');
    expect(await heapReplay(replayArgs([FIXTURE, '--out', out]), io)).toBe(0);
    // frag: calloc + 1000 mallocs + 500 frees + malloc_trim; 1002 of them return something
    expect(io.stderr()).toMatch(/1502\/1502 calls replayed, \d+ ns\/call; results matched 1002\/1002; mallinfo2 equal\n$/);
    const sim = readFileSync(out, 'utf8');
    expect(sim.split('\n').filter((l) => /^(malloc|calloc|free|malloc_trim) /.test(l))).toHaveLength(1502);
    expect(sim).toMatch(/^mallinfo2 arena=\d+/m);
    expect(io.stdout()).toBe('');
  });

  it('exits 1 and names the first mismatch when the real trace says otherwise', async () => {
    const text = gunzipSync(readFileSync(FIXTURE)).toString();
    // move the 10th malloc's real result 0x1000 further: the model cannot agree any more
    let n = 0;
    const tampered = text.replace(/^(malloc 100 = )0x([0-9a-f]+)$/gm, (line, head: string, hex: string) =>
      ++n === 10 ? `${head}0x${(parseInt(hex, 16) + 0x1000).toString(16)}` : line,
    );
    const path = join(dir, 'tampered.ht');
    writeFileSync(path, tampered);
    const io = bufferIo();
    expect(await heapReplay(replayArgs([path, '--out', join(dir, 'sim2.ht')]), io)).toBe(1);
    expect(io.stderr()).toMatch(/results matched 1001\/1002/);
    expect(io.stderr()).toMatch(/first mismatch at call 10: real 0x[0-9a-f]+, sim 0x[0-9a-f]+ \(malloc 100 = 0x/);
  });

  it('exits 2 for a trace it cannot read', async () => {
    const io = bufferIo();
    expect(await heapReplay(replayArgs([join(dir, 'absent.ht')]), io)).toBe(2);
    expect(io.stderr()).toMatch(/cannot read/);
    const bad = join(dir, 'bad.ht');
    writeFileSync(bad, '# heaptrace v1\nheap_base 0x1000\nmallocx 5 = 0x1\n');
    expect(await heapReplay(replayArgs([bad]), bufferIo())).toBe(2);
  });
});

describe('heapRecord', () => {
  it('says clearly that it needs a C compiler when none is found and nothing is cached', async () => {
    const io = bufferIo();
    const env = { PATH: join(dir, 'no-bin'), XDG_CACHE_HOME: join(dir, 'empty-cache') };
    expect(await heapRecord(recordArgs(['--out', join(dir, 'x.ht'), '--', 'true']), io, { env, stdio: 'ignore' })).toBe(1);
    expect(io.stderr()).toMatch(/^mmsim heap record: no C compiler found \(tried cc, gcc, clang\)/);
  });

  it('refuses to run without a command', async () => {
    const io = bufferIo();
    expect(await heapRecord(recordArgs([]), io)).toBe(2);
  });

  it.skipIf(!hasCompiler())('records a program, and the model replays the recording exactly', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
    const frag = buildCTool(FRAG, { cache: join(dir, 'tools') });
    const out = join(dir, 'frag.ht.gz');
    const io = bufferIo();
    expect(await heapRecord(recordArgs(['--out', out, '--', frag, '2', '40', '1000']), io, { env, stdio: 'ignore' })).toBe(0);
    // calloc(40, 8), 40 mallocs, 20 frees, malloc_trim(0)
    expect(io.stderr()).toBe(`mmsim heap record: 62 calls from 1 thread(s) -> ${out}\n`);
    const text = gunzipSync(readFileSync(out)).toString();
    expect(text.split('\n')[0]).toBe('# heaptrace v1 glibc=2.36 recorder=mmsim');
    expect(text).toMatch(/^calloc 40 8 = 0x[0-9a-f]+$/m);

    const rio = bufferIo();
    expect(await heapReplay(replayArgs([out, '--out', join(dir, 'frag-sim.ht')]), rio)).toBe(0);
    expect(rio.stderr()).toMatch(/62\/62 calls replayed.*results matched 42\/42; mallinfo2 equal/);
  });
});
