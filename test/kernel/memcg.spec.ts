// cgroup v2 memory.high and MADV_FREE through the services:
//  - memory.high: a process in a cgroup writing past it is reclaimed back (its pages go to swap)
//    instead of being killed; memory.current stays within a charge batch (64 pages) of high and
//    memory.events counts "high" (mm/memcontrol.c reclaim_high); writing memory.high below the
//    usage reclaims at once (memory_high_write);
//  - memory.max in the same situation, for contrast, runs the memcg OOM killer once reclaim
//    cannot keep up (no swap);
//  - MADV_FREE: without swap, lazily freed pages are dropped under a cgroup's memory.max instead
//    of the OOM killer running, and read back as zeroes (minor faults, no swap-in).
// Each machine's log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { createMachine, expectLogReplays, MiB, mmap, PAGE, spawn, startEmbedded, syscall, touch, vmstat, type EmbeddedServer } from './support.js';

const MADV_FREE = 8;

async function cg(c: MmsimClient, machine: MachineRef, op: 'mkdir' | 'write' | 'read', path: string, file = '', value = ''): Promise<string> {
  return (await c.vma.cgroup({ machine, op, path, file, value, pid: 0 })).value;
}
const events = (text: string): Record<string, number> => Object.fromEntries(text.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));

describe('memory.high through the Cgroup RPC', () => {
  let srv: EmbeddedServer;
  const r: Record<string, unknown> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'high', { ramBytes: 512 * MiB, swapBytes: 512 * MiB });
    await cg(c, m, 'mkdir', '/batch');
    await cg(c, m, 'write', '/batch', 'memory.high', String(64 * MiB));
    const pid = await spawn(c, m, 'batch', { cgroup: '/batch' });
    const a = await mmap(c, m, pid, 160 * MiB);
    r.touch = await touch(c, m, pid, a, 160 * MiB);
    r.current = Number(await cg(c, m, 'read', '/batch', 'memory.current'));
    r.events = events(await cg(c, m, 'read', '/batch', 'memory.events'));
    r.high = (await cg(c, m, 'read', '/batch', 'memory.high')).trim();
    r.vm = await vmstat(c, m);
    await cg(c, m, 'write', '/batch', 'memory.high', String(32 * MiB));
    r.currentAfterLower = Number(await cg(c, m, 'read', '/batch', 'memory.current'));
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('writing past memory.high swaps the cgroup back down to it: the process lives, "high" is counted', () => {
    expect(r.touch).toMatchObject({ ok: true });
    expect(r.high).toBe(String(64 * MiB));
    expect(r.current).toBeLessThanOrEqual(64 * MiB + 64 * PAGE);
    expect((r.events as Record<string, number>).high).toBeGreaterThan(0);
    expect((r.events as Record<string, number>).oom).toBe(0);
    expect((r.vm as Record<string, number>).pswpout).toBeGreaterThanOrEqual((160 - 64) * 256 - 64);
    expect((r.vm as Record<string, number>).oom_kill).toBe(0);
  });

  it('lowering memory.high below the usage reclaims at once', () => {
    expect(r.currentAfterLower).toBeLessThanOrEqual(32 * MiB);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'high');
  });
});

describe('MADV_FREE under memory.max without swap', () => {
  let srv: EmbeddedServer;
  const r: Record<string, unknown> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'lazy', { ramBytes: 512 * MiB });
    for (const name of ['/kept', '/freed']) {
      await cg(c, m, 'mkdir', name);
      await cg(c, m, 'write', name, 'memory.max', String(48 * MiB));
      const pid = await spawn(c, m, name.slice(1), { cgroup: name });
      const a = await mmap(c, m, pid, 32 * MiB);
      await touch(c, m, pid, a, 32 * MiB);
      if (name === '/freed') r.madvise = await syscall(c, m, pid, 'madvise', [a, 32 * MiB, MADV_FREE]);
      const b = await mmap(c, m, pid, 32 * MiB);
      r[name] = await touch(c, m, pid, b, 32 * MiB);
      if (name === '/freed') r.readBack = await touch(c, m, pid, a, 32 * MiB, false);
      r[`${name}.events`] = events(await cg(c, m, 'read', name, 'memory.events'));
    }
    r.vm = await vmstat(c, m);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('without MADV_FREE the cgroup runs out: the memcg OOM killer takes the process', () => {
    expect(r['/kept']).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect((r['/kept.events'] as Record<string, number>).oom_kill).toBe(1);
  });

  it('with MADV_FREE the lazily freed pages are dropped instead; reading them back is minor faults (zeroes)', () => {
    expect(r.madvise).toBe(0);
    expect(r['/freed']).toMatchObject({ ok: true });
    expect((r['/freed.events'] as Record<string, number>).oom_kill).toBe(0);
    expect((r.vm as Record<string, number>).pglazyfreed).toBeGreaterThan(0);
    expect(r.readBack).toMatchObject({ ok: true, majorFaults: 0n });
    expect(Number((r.readBack as { minorFaults: bigint }).minorFaults)).toBeGreaterThan(0);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'lazy');
  });
});
