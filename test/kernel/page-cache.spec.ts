// The page cache gives way to anonymous memory before the OOM killer runs: a reader fills the
// cache with read(2) (ReadFile, through the scenario runner's readFile steps), then a process
// allocates anonymous memory 8 MiB at a time on a machine without swap. Reclaim drops clean file
// pages (Cached falls, pgscan_file/pgsteal_file rise in /proc/vmstat) and only when the cache is
// nearly gone does an allocation fail and the OOM killer run (oom_kill 0 until then). The log
// replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '@mmsim/sdk';
import { expectLogReplays, meminfo, MiB, mmap, startEmbedded, touch, vmstat, type EmbeddedServer } from './support.js';

const NAME = 'cache';
const FILE = 48 * MiB;
const STEP = 8 * MiB;

interface Sample {
  readonly step: number;
  readonly cachedKb: number;
  readonly pgstealFile: number;
  readonly pgscanFile: number;
  readonly oomKill: number;
}

describe('page cache before the OOM killer (no swap)', () => {
  let srv: EmbeddedServer;
  let reader = 0;
  let app = 0;
  let cachedAfterReadKb = 0;
  let cachedBeforeReadKb = 0;
  const samples: Sample[] = [];
  let fatal = -1;
  let readerAlive = false;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    let before: Record<string, number> = {};
    const r = await runScenario(
      c,
      {
        machine: { name: NAME, ramBytes: '256M', seed: 3 },
        steps: [
          { spawn: { as: 'reader', name: 'reader' } },
          { spawn: { as: 'app', name: 'app' } },
          { readFile: { pid: '$reader', file: '/data/a', length: FILE } },
          { readFile: { pid: '$reader', file: '/data/b', length: FILE } },
          { readFile: { pid: '$reader', file: '/data/c', length: FILE } },
        ],
      },
      { onCreated: async () => void (before = await meminfo(c, { tenant: c.tenant, machine: NAME })) },
    );
    const machine = { tenant: c.tenant, machine: NAME };
    reader = r.vars.reader;
    app = r.vars.app;
    cachedBeforeReadKb = before.Cached;
    cachedAfterReadKb = (await meminfo(c, machine)).Cached;
    for (let step = 0; step < 64; step++) {
      const m = await meminfo(c, machine);
      const v = await vmstat(c, machine);
      samples.push({ step, cachedKb: m.Cached, pgstealFile: v.pgsteal_file, pgscanFile: v.pgscan_file, oomKill: v.oom_kill });
      const a = await mmap(c, machine, app, STEP);
      expect(a).toBeGreaterThan(0);
      const t = await touch(c, machine, app, a, STEP);
      if (!t.ok) {
        fatal = step;
        break;
      }
    }
    const tasks = await c.vma.listTasks({ machine, all: false });
    readerAlive = tasks.tasks.some((t) => t.pid === reader && t.exit === '');
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('read(2) filled the page cache with the three files', () => {
    expect(cachedAfterReadKb - cachedBeforeReadKb).toBeGreaterThanOrEqual((3 * FILE) / 1024 - 64);
  });

  it('anonymous allocations shrink the cache: Cached falls while pgscan_file and pgsteal_file rise, with no OOM kill', () => {
    const first = samples[0];
    // By the time the app holds 96 MiB, more than the ~50 MiB that were free: the rest came from the cache.
    const later = samples[12];
    expect(later.oomKill).toBe(0);
    expect(later.cachedKb).toBeLessThan(first.cachedKb - 32 * 1024);
    expect(later.pgstealFile).toBeGreaterThan(first.pgstealFile + (32 * MiB) / 4096);
    expect(later.pgscanFile).toBeGreaterThanOrEqual(later.pgstealFile);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i].cachedKb, `step ${i}`).toBeLessThanOrEqual(samples[i - 1].cachedKb + 64);
    }
  });

  it('the OOM killer runs only once the cache is nearly gone, and takes the allocating app, not the reader', () => {
    expect(fatal).toBeGreaterThan(12);
    for (const s of samples) expect(s.oomKill, `step ${s.step}`).toBe(0);
    // Just before the fatal step less than a tenth of what the files had put in the cache is left.
    expect(samples[fatal].cachedKb).toBeLessThan((3 * FILE) / 1024 / 10);
    expect(readerAlive).toBe(true);
  });

  it('the log replays: every state hash and decision reproduced', async () => {
    await expectLogReplays(srv, NAME);
    if (process.env.MMSIM_REPORT) console.log(JSON.stringify({ cachedBeforeReadKb, cachedAfterReadKb, fatal, samples: samples.filter((s) => s.step % 4 === 0 || s.step === fatal) }));
  });
});
