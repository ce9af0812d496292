// The acceptance check of the glibc issue, as written: for every reference trace,
// `mmsim heap replay REAL --out SIM` and then the reference's own comparator,
// `heapcmp.py REAL SIM`, exits 0. Our fixtures go through it too. heapcmp.py ships with
// ../shared, so this runs only where ../shared is (the model's own comparator,
// trace/compare.ts, checks the fixtures everywhere: heaptrace-fixtures.spec.ts).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { heapReplay } from '../../packages/cli/src/commands/heap/replay.js';
import type { Io } from '../../packages/cli/src/io.js';
import { FIXTURES_DIR, listTraces, SHARED_TRACES_DIR, type TraceFile } from './heaptrace-support.js';

const run = promisify(execFile);
const HEAPCMP = fileURLToPath(new URL('../../../shared/oracles/heaptrace/heapcmp.py', import.meta.url));
const MMSIM = fileURLToPath(new URL('../../packages/cli/bin/mmsim.js', import.meta.url));
const here = existsSync(HEAPCMP);
const out = mkdtempSync(join(tmpdir(), 'mmsim-heapcmp-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** `mmsim heap replay REAL --out SIM`, run in this process (the CLI's own function). */
async function replayToFile(t: TraceFile, sim: string): Promise<{ status: number; err: string }> {
  let err = '';
  const io: Io = { out: () => undefined, err: (s) => void (err += s), isTty: false };
  const status = await heapReplay({ options: { out: sim }, positionals: { trace: t.path }, rest: [] }, io);
  return { status, err };
}

async function heapcmp(real: string, sim: string): Promise<{ code: number; text: string }> {
  try {
    const r = await run('python3', [HEAPCMP, real, sim], { maxBuffer: 64 << 20 });
    return { code: 0, text: r.stdout };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, text: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

describe.skipIf(!here)(`heapcmp.py (../shared/oracles/heaptrace) on the simulator's traces${here ? '' : ': skipped, ../shared is not here'}`, () => {
  const sets: [string, TraceFile[]][] = [
    ['shared', listTraces(SHARED_TRACES_DIR)],
    ['fixtures', listTraces(FIXTURES_DIR)],
  ];
  for (const [set, traces] of sets) {
    // concurrent: the replay runs here, heapcmp.py in its own process beside the next replay
    describe.concurrent(set, () => {
      it('has traces', () => expect(traces.length).toBeGreaterThan(20));
      for (const t of traces) {
        it(t.name, async () => {
          const sim = join(out, `${set}-${t.name}.ht`);
          const r = await replayToFile(t, sim);
          expect(r.status, r.err).toBe(0);
          const c = await heapcmp(t.path, sim);
          expect(c.code, c.text.slice(0, 2000)).toBe(0);
        }, 120_000);
      }
    });
  }

  it('the command line itself: mmsim heap replay REAL --out SIM.gz, then heapcmp.py', async () => {
    const t = listTraces(SHARED_TRACES_DIR).find((x) => x.name === 'git') ?? listTraces(SHARED_TRACES_DIR)[0];
    const sim = join(out, 'cli.ht.gz');
    const r = await run(process.execPath, [MMSIM, 'heap', 'replay', t.path, '--out', sim]);
    expect(r.stderr).toMatch(/calls replayed/);
    expect((await heapcmp(t.path, sim)).code).toBe(0);
  }, 120_000);
});
