// /proc/sys/vm through MachineService.Sysctl: every modelled sysctl round-trips (the RPC and
// /proc/sys/vm/<name> agree), and each takes effect where the kernel uses it:
//  - min_free_kbytes and watermark_scale_factor: the zone watermarks /proc/zoneinfo shows, as
//    mm/page_alloc.c __setup_per_zone_wmarks() computes them (computed here from the zones'
//    managed pages, not read from the model);
//  - swappiness: the anon/file balance of reclaim (mm/vmscan.c get_scan_count: 0 scans no anon,
//    200 no file, in between both);
//  - overcommit_* and the reserves: CommitLimit and the mode-2 boundary (overcommit.spec.ts has
//    the rest);
//  - panic_on_oom: an OOM panics the machine; oom_kill_allocating_task: the allocating task dies.
// Each machine's log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { createMachine, expectLogReplays, GiB, meminfo, MiB, mmap, readText, spawn, startEmbedded, status, sysctl, touch, vmstat, type EmbeddedServer } from './support.js';

interface Zone {
  readonly managed: number;
  readonly min: number;
  readonly low: number;
  readonly high: number;
  readonly promo: number;
}

/** The watermarks and managed pages of each zone in /proc/zoneinfo. */
function zones(text: string): Record<string, Zone> {
  const out: Record<string, Zone> = {};
  for (const block of text.split(/^Node \d+, zone\s+/m).slice(1)) {
    const name = block.split('\n')[0].trim();
    const get = (label: string): number => Number(new RegExp(`^\\s+${label}\\s+(\\d+)`, 'm').exec(block)?.[1]);
    out[name] = { managed: get('managed'), min: get('min'), low: get('low'), high: get('high'), promo: get('promo') };
  }
  return out;
}

/** mult_frac(x, n, d): x * n / d without overflow, as the kernel computes it. */
const multFrac = (x: number, n: number, d: number): number => Math.floor(x / d) * n + Math.floor(((x % d) * n) / d);

/** __setup_per_zone_wmarks() for the zones below ZONE_MOVABLE (no highmem on x86-64). */
function expectedWatermarks(z: Record<string, Zone>, minFreeKbytes: number, wsf: number): Record<string, Omit<Zone, 'managed'>> {
  const low = ['DMA', 'DMA32', 'Normal'].filter((n) => z[n]);
  const pagesMin = Math.floor(minFreeKbytes / 4);
  const lowmem = low.reduce((t, n) => t + z[n].managed, 0);
  const out: Record<string, Omit<Zone, 'managed'>> = {};
  for (const n of low) {
    const min = Math.floor((pagesMin * z[n].managed) / lowmem);
    const tmp = Math.max(Math.floor(min / 4), multFrac(z[n].managed, wsf, 10000));
    out[n] = { min, low: min + tmp, high: min + 2 * tmp, promo: min + 3 * tmp };
  }
  return out;
}

const pick = (z: Record<string, Zone>): Record<string, Omit<Zone, 'managed'>> =>
  Object.fromEntries(['DMA', 'DMA32', 'Normal'].filter((n) => z[n]).map((n) => [n, { min: z[n].min, low: z[n].low, high: z[n].high, promo: z[n].promo }]));

describe('sysctls round-trip and change the watermarks', () => {
  let srv: EmbeddedServer;
  let m: MachineRef;
  const values: Record<string, { rpc: number; proc: number }> = {};
  const zs: Record<string, Record<string, Zone>> = {};
  const knobs: Record<string, number> = {};
  let refused: { code?: number } = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    m = await createMachine(c, 'knobs', { ramBytes: 6 * GiB, swapBytes: GiB });
    knobs.minFree0 = await sysctl(c, m, 'vm.min_free_kbytes');
    zs.boot = zones(await readText(c, m, '/proc/zoneinfo'));
    await sysctl(c, m, 'vm.min_free_kbytes', 131072);
    zs.minFree = zones(await readText(c, m, '/proc/zoneinfo'));
    await sysctl(c, m, 'vm.watermark_scale_factor', 200);
    zs.wsf = zones(await readText(c, m, '/proc/zoneinfo'));
    const writes: [string, number][] = [
      ['overcommit_memory', 1], ['overcommit_ratio', 70], ['admin_reserve_kbytes', 16384], ['user_reserve_kbytes', 65536],
      ['min_free_kbytes', 45678], ['watermark_scale_factor', 35], ['swappiness', 133], ['panic_on_oom', 2], ['oom_kill_allocating_task', 1],
      ['overcommit_kbytes', 2097152],
    ];
    for (const [name, v] of writes) {
      const rpc = await sysctl(c, m, `vm.${name}`, v);
      const proc = Number((await readText(c, m, `/proc/sys/vm/${name}`)).trim());
      values[name] = { rpc, proc };
    }
    knobs.ratioAfterKbytes = await sysctl(c, m, 'vm.overcommit_ratio');
    await c.machines.sysctl({ machine: m, name: 'vm.swappiness', value: '201' }).catch((e: { code?: number }) => (refused = e));
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('min_free_kbytes reads as the kernel computed it at boot (int_sqrt(lowmem kB * 16))', () => {
    const lowmemKb = Object.values(zs.boot).reduce((t, z) => t + z.managed, 0) * 4;
    expect(knobs.minFree0).toBe(Math.min(262144, Math.max(128, Math.floor(Math.sqrt(lowmemKb * 16)))));
  });

  it('the boot watermarks, a new min_free_kbytes and a new watermark_scale_factor give __setup_per_zone_wmarks() watermarks', () => {
    expect(pick(zs.boot)).toEqual(expectedWatermarks(zs.boot, knobs.minFree0, 10));
    expect(pick(zs.minFree)).toEqual(expectedWatermarks(zs.minFree, 131072, 10));
    expect(pick(zs.wsf)).toEqual(expectedWatermarks(zs.wsf, 131072, 200));
    expect(zs.minFree.Normal.min).toBeGreaterThan(zs.boot.Normal.min);
  });

  it('every modelled sysctl reads back what was written, through the RPC and /proc/sys/vm', () => {
    expect(values).toEqual({
      overcommit_memory: { rpc: 1, proc: 1 },
      overcommit_ratio: { rpc: 70, proc: 70 },
      admin_reserve_kbytes: { rpc: 16384, proc: 16384 },
      user_reserve_kbytes: { rpc: 65536, proc: 65536 },
      min_free_kbytes: { rpc: 45678, proc: 45678 },
      watermark_scale_factor: { rpc: 35, proc: 35 },
      swappiness: { rpc: 133, proc: 133 },
      panic_on_oom: { rpc: 2, proc: 2 },
      oom_kill_allocating_task: { rpc: 1, proc: 1 },
      overcommit_kbytes: { rpc: 2097152, proc: 2097152 },
    });
    // overcommit_kbytes_handler() clears overcommit_ratio.
    expect(knobs.ratioAfterKbytes).toBe(0);
  });

  it('a value out of range is a bad call (INVALID_ARGUMENT)', () => {
    expect(refused.code).toBe(3);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'knobs');
  });
});

/** A process with 150 MiB of anonymous memory, 150 MiB of page cache read twice (active), then 200 MiB more anonymous memory. */
async function reclaimWorkload(c: MmsimClient, m: MachineRef): Promise<Record<string, number>> {
  const a = await spawn(c, m, 'resident');
  const b = await spawn(c, m, 'grower');
  const x = await mmap(c, m, a, 150 * MiB);
  expect((await touch(c, m, a, x, 150 * MiB)).ok).toBe(true);
  for (let k = 0; k < 2; k++) expect((await c.vma.readFile({ machine: m, pid: b, filePath: '/data/set', fileSize: BigInt(150 * MiB), offset: 0n, length: BigInt(150 * MiB) })).ok).toBe(true);
  const before = await vmstat(c, m);
  const y = await mmap(c, m, b, 200 * MiB);
  for (let k = 0; k < 20; k++) expect((await touch(c, m, b, y + k * 10 * MiB, 10 * MiB)).ok).toBe(true);
  const after = await vmstat(c, m);
  const d = (k: string): number => after[k] - before[k];
  return { pgscan_anon: d('pgscan_anon'), pgscan_file: d('pgscan_file'), pswpout: d('pswpout'), pgsteal_file: d('pgsteal_file') };
}

describe('vm.swappiness changes what reclaim scans', () => {
  let srv: EmbeddedServer;
  const runs: Record<number, Record<string, number>> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    for (const sw of [0, 60, 200]) {
      const m = await createMachine(c, `swappiness${sw}`, { ramBytes: 512 * MiB, swapBytes: 512 * MiB });
      expect(await sysctl(c, m, 'vm.swappiness', sw)).toBe(sw);
      runs[sw] = await reclaimWorkload(c, m);
    }
    await srv.stop();
  }, 180_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('0: only file pages are scanned, nothing is swapped', () => {
    expect(runs[0].pgscan_anon).toBe(0);
    expect(runs[0].pswpout).toBe(0);
    expect(runs[0].pgscan_file).toBeGreaterThan(0);
  });

  it('200: only anonymous pages are scanned', () => {
    expect(runs[200].pgscan_file).toBe(0);
    expect(runs[200].pgscan_anon).toBeGreaterThan(0);
  });

  it('60: both, the anon share between the two', () => {
    const share = (r: Record<string, number>): number => r.pgscan_anon / (r.pgscan_anon + r.pgscan_file);
    expect(runs[60].pgscan_anon).toBeGreaterThan(0);
    expect(runs[60].pgscan_file).toBeGreaterThan(0);
    expect(share(runs[60])).toBeGreaterThan(share(runs[0]));
    expect(share(runs[60])).toBeLessThan(share(runs[200]));
  });

  it('the logs replay', async () => {
    for (const sw of [0, 60, 200]) await expectLogReplays(srv, `swappiness${sw}`);
  });
});

describe('OOM sysctls', () => {
  let srv: EmbeddedServer;
  const out: Record<string, unknown> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    // oom_kill_allocating_task: the task whose allocation failed dies, not the biggest one.
    const k = await createMachine(c, 'allocating', { ramBytes: 256 * MiB });
    await sysctl(c, k, 'vm.oom_kill_allocating_task', 1);
    const big = await spawn(c, k, 'big');
    const small = await spawn(c, k, 'small');
    const b = await mmap(c, k, big, 150 * MiB);
    expect((await touch(c, k, big, b, 150 * MiB)).ok).toBe(true);
    const s = await mmap(c, k, small, 100 * MiB);
    out.smallTouch = await touch(c, k, small, s, 100 * MiB);
    out.killed = (await c.oom.listKills({ machine: k })).kills.flatMap((x) => x.killed);
    out.big = big;
    out.small = small;
    out.bigAlive = (await status(c, k, big)).VmRSS > 0;
    // panic_on_oom: the OOM panics the machine; later commands are refused.
    const p = await createMachine(c, 'panics', { ramBytes: 256 * MiB });
    await sysctl(c, p, 'vm.panic_on_oom', 1);
    const hog = await spawn(c, p, 'hog');
    const h1 = await mmap(c, p, hog, 150 * MiB);
    const h2 = await mmap(c, p, hog, 150 * MiB);
    await touch(c, p, hog, h1, 150 * MiB);
    out.panicTouch = await touch(c, p, hog, h2, 150 * MiB);
    out.afterPanic = await spawn(c, p, 'late').catch((e: { code?: number; details?: string }) => ({ code: e.code, details: e.details }));
    out.panicMem = await meminfo(c, p);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('oom_kill_allocating_task=1 kills the allocating task, not the bigger one', () => {
    expect(out.smallTouch).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect(out.killed).toEqual([out.small]);
    expect(out.bigAlive).toBe(true);
  });

  it('panic_on_oom=1 panics the machine on OOM: the touch reports the panic, then every command is refused', () => {
    expect(out.panicTouch).toMatchObject({ ok: false, signal: 'PANIC' });
    expect(out.afterPanic).toMatchObject({ code: 9 });
    expect(String((out.afterPanic as { details?: string }).details)).toMatch(/panic/);
  });

  it('the logs replay', async () => {
    await expectLogReplays(srv, 'allocating');
    await expectLogReplays(srv, 'panics');
  });
});
