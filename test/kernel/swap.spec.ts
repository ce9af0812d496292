// Swap through the services: a process writes more anonymous memory than the machine has RAM;
// pages go out to swap (SwapFree falls, pswpout rises, nothing is killed) and come back when it
// touches them again, as major faults: the Touch RPC's major_faults, /proc/vmstat pgmajfault and
// pswpin all count the pages read back from swap, and /proc/<pid>/status shows VmSwap go down.
// Also: without swap and with nothing reclaimable, the same program is killed by the OOM killer.
// Each machine's log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, expectLogReplays, meminfo, MiB, mmap, PAGE, startEmbedded, status, touch, vmstat, type EmbeddedServer } from './support.js';

describe('swap', () => {
  let srv: EmbeddedServer;
  const SIZE = 320 * MiB; // RAM is 256 MiB (MemTotal about 203 MiB)
  const r: Record<string, Record<string, number>> = {};
  let firstTouch: { ok: boolean; minorFaults: bigint; majorFaults: bigint } | undefined;
  let backTouch: { ok: boolean; minorFaults: bigint; majorFaults: bigint } | undefined;
  let backTouchSecond: { ok: boolean; majorFaults: bigint } | undefined;
  let kills = -1;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const machine = await createMachine(c, 'swap', { ramBytes: 256 * MiB, swapBytes: 512 * MiB });
    const pid = await (async () => (await c.vma.spawn({ machine, name: 'hog', uid: 1000, euid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid)();
    r.mem0 = await meminfo(c, machine);
    r.vm0 = await vmstat(c, machine);
    const a = await mmap(c, machine, pid, SIZE);
    firstTouch = await touch(c, machine, pid, a, SIZE, true);
    r.mem1 = await meminfo(c, machine);
    r.vm1 = await vmstat(c, machine);
    r.st1 = await status(c, machine, pid);
    // Read the first 64 MiB back: the oldest pages, the first to have gone out.
    backTouch = await touch(c, machine, pid, a, 64 * MiB, false);
    r.vm2 = await vmstat(c, machine);
    r.st2 = await status(c, machine, pid);
    backTouchSecond = await touch(c, machine, pid, a, 64 * MiB, false);
    r.vm3 = await vmstat(c, machine);
    kills = (await c.oom.listKills({ machine })).kills.filter((k) => k.killed.length > 0).length;
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('more anonymous memory than RAM: pages go out to swap, nobody is killed', () => {
    expect(firstTouch?.ok).toBe(true);
    expect(firstTouch?.majorFaults).toBe(0n);
    expect(Number(firstTouch?.minorFaults)).toBeGreaterThanOrEqual(SIZE / PAGE);
    const outKb = r.mem0.SwapFree - r.mem1.SwapFree;
    // What did not fit in RAM went out (MemTotal minus what the kernel keeps free and the rest holds).
    expect(outKb).toBeGreaterThanOrEqual(SIZE / 1024 - r.mem0.MemFree);
    expect(r.vm1.pswpout - r.vm0.pswpout).toBeGreaterThanOrEqual(outKb / 4);
    expect(r.st1.VmSwap).toBeGreaterThan(0);
    expect(r.st1.VmSwap + r.st1.RssAnon).toBeGreaterThanOrEqual(SIZE / 1024);
    expect(r.vm1.oom_kill).toBe(0);
    expect(kills).toBe(0);
  });

  it('touching them again brings them back as major faults (TouchResponse, pgmajfault, pswpin agree)', () => {
    expect(backTouch?.ok).toBe(true);
    const major = Number(backTouch?.majorFaults);
    expect(major).toBeGreaterThan((32 * MiB) / PAGE);
    expect(r.vm2.pgmajfault - r.vm1.pgmajfault).toBe(major);
    expect(r.vm2.pswpin - r.vm1.pswpin).toBe(major);
    // Reading back 64 MiB needs room: other pages went out meanwhile, so VmSwap fell by less.
    expect(r.st2.VmSwap).toBeLessThan(r.st1.VmSwap);
    expect(r.st1.VmSwap - r.st2.VmSwap).toBeLessThanOrEqual(major * 4);
  });

  it('a second read of pages already back is all minor (no swap-in)', () => {
    expect(backTouchSecond?.ok).toBe(true);
    expect(Number(backTouchSecond?.majorFaults)).toBeLessThan(Number(backTouch?.majorFaults));
    expect(r.vm3.pswpin - r.vm2.pswpin).toBe(Number(backTouchSecond?.majorFaults));
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'swap');
  });
});

describe('no swap, nothing reclaimable', () => {
  let srv: EmbeddedServer;
  let result: { ok: boolean; signal: string } | undefined;
  let vm: Record<string, number> = {};
  let victims: number[] = [];
  let pid = 0;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const machine = await createMachine(c, 'noswap', { ramBytes: 256 * MiB });
    pid = (await c.vma.spawn({ machine, name: 'hog', uid: 1000, euid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid;
    // Two mappings: mode 0 refuses one request larger than RAM + swap (this machine's 203 MiB).
    const a = await mmap(c, machine, pid, 160 * MiB);
    const b = await mmap(c, machine, pid, 160 * MiB);
    expect(a > 0 && b > 0).toBe(true);
    result = await touch(c, machine, pid, a, 160 * MiB, true);
    if (result.ok) result = await touch(c, machine, pid, b, 160 * MiB, true);
    vm = await vmstat(c, machine);
    victims = (await c.oom.listKills({ machine })).kills.flatMap((k) => k.killed);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('the OOM killer runs and takes the process (the only big one)', () => {
    expect(result).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect(vm.oom_kill).toBe(1);
    expect(vm.pswpout).toBe(0);
    expect(victims).toEqual([pid]);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'noswap');
  });
});
