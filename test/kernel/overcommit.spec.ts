// Overcommit through the services (mm/util.c __vm_enough_memory, vm_commit_limit; the rules in
// /work/shared/reference/linux-oom-overcommit-meminfo.md):
//  - CommitLimit = (MemTotal pages * overcommit_ratio / 100 + swap pages) * 4 kB, or
//    overcommit_kbytes + swap when that is set, on a machine of snapshot-a's size;
//  - Committed_AS is charged as the reference's measured table says, mapping by mapping;
//  - mode 2 refuses the mmap (and the brk, so malloc returns NULL) that would reach the limit,
//    exactly at the boundary, without any OOM kill;
//  - mode 0 refuses only a single request larger than RAM + swap.
// Each machine's log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineRef } from '@mmsim/proto';
import {
  createMachine, expectLogReplays, GiB, MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, meminfo, MiB, mmap, PAGE, PROT_READ,
  PROT_WRITE, spawn, startEmbedded, status, syscall, sysctl, type EmbeddedServer,
} from './support.js';

const ENOMEM = -12;
const RW = PROT_READ | PROT_WRITE;
const GIB_KB = 1048576;

// /work/shared/oracles/oom/snapshot-a.json (a 6.18 kernel, 24 GiB RAM, no swap): meminfo_kB has
// MemTotal 24684084 and CommitLimit 12342040 with vm.overcommit_ratio 50, overcommit_kbytes 0.
const SNAPSHOT_A = { ramBytes: 24 * GiB, memTotalKb: 24684084, commitLimitKb: 12342040, ratio: 50 };

/** vm_commit_limit() in kB from MemTotal and SwapTotal (kB), as the reference states it. */
const commitLimitKb = (memTotalKb: number, swapTotalKb: number, ratio: number, kbytes = 0): number =>
  (kbytes ? Math.floor(kbytes / 4) : Math.floor(((memTotalKb / 4) * ratio) / 100)) * 4 + swapTotalKb;

describe('CommitLimit', () => {
  let srv: EmbeddedServer;
  let big: MachineRef;
  let small: MachineRef;
  const seen: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    big = await createMachine(c, 'snap', { ramBytes: SNAPSHOT_A.ramBytes });
    seen.big = await meminfo(c, big);
    await sysctl(c, big, 'vm.overcommit_ratio', 80);
    seen.ratio80 = await meminfo(c, big);
    await sysctl(c, big, 'vm.overcommit_kbytes', 1000000);
    seen.kbytes = await meminfo(c, big);
    seen.kbytesRatio = { ratio: await sysctl(c, big, 'vm.overcommit_ratio') };
    small = await createMachine(c, 'withswap', { ramBytes: GiB, swapBytes: 512 * MiB });
    seen.small = await meminfo(c, small);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it("the reference's rule gives snapshot-a's own CommitLimit from its MemTotal", () => {
    expect(commitLimitKb(SNAPSHOT_A.memTotalKb, 0, SNAPSHOT_A.ratio)).toBe(SNAPSHOT_A.commitLimitKb);
  });

  it('a machine of snapshot-a\'s size: CommitLimit = MemTotal pages * 50 / 100 * 4 kB', () => {
    // MemTotal is the model's (RAM minus what the kernel reserves at boot), within 2% of the snapshot's.
    expect(Math.abs(seen.big.MemTotal - SNAPSHOT_A.memTotalKb) / SNAPSHOT_A.memTotalKb).toBeLessThan(0.02);
    expect(seen.big.SwapTotal).toBe(0);
    expect(seen.big.CommitLimit).toBe(commitLimitKb(seen.big.MemTotal, 0, 50));
  });

  it('follows vm.overcommit_ratio and vm.overcommit_kbytes (which clears the ratio)', () => {
    expect(seen.ratio80.CommitLimit).toBe(commitLimitKb(seen.big.MemTotal, 0, 80));
    expect(seen.kbytes.CommitLimit).toBe(commitLimitKb(seen.big.MemTotal, 0, 0, 1000000));
    expect(seen.kbytesRatio.ratio).toBe(0);
  });

  it('adds the swap pages', () => {
    expect(seen.small.SwapTotal).toBeGreaterThan(0);
    expect(seen.small.CommitLimit).toBe(commitLimitKb(seen.small.MemTotal, seen.small.SwapTotal, 50));
  });

  it('the logs replay', async () => {
    await expectLogReplays(srv, 'snap');
    await expectLogReplays(srv, 'withswap');
  });
});

describe("Committed_AS: the reference's measured table, 1 GiB per mapping (mode 0)", () => {
  let srv: EmbeddedServer;
  const deltas: Record<string, number> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'table', { ramBytes: SNAPSHOT_A.ramBytes });
    const pid = await spawn(c, m, 'mapper');
    const charged = async (what: string, f: () => Promise<unknown>) => {
      const before = (await meminfo(c, m)).Committed_AS;
      await f();
      deltas[what] = (await meminfo(c, m)).Committed_AS - before;
    };
    let anon = 0;
    let ro = 0;
    await charged('private anon writable', async () => (anon = await mmap(c, m, pid, GiB)));
    await charged('private read-only', async () => (ro = await mmap(c, m, pid, GiB, { prot: PROT_READ })));
    await charged('MAP_NORESERVE', () => mmap(c, m, pid, GiB, { flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE }));
    await charged('shared anon', () => mmap(c, m, pid, GiB, { flags: MAP_SHARED | MAP_ANONYMOUS }));
    await charged('read-only then mprotect writable', () => syscall(c, m, pid, 'mprotect', [ro, GiB, RW]));
    await charged('file MAP_PRIVATE writable', () => mmap(c, m, pid, GiB, { flags: MAP_PRIVATE, file: '/data/private' }));
    await charged('file MAP_SHARED', () => mmap(c, m, pid, GiB, { flags: MAP_SHARED, file: '/data/shared' }));
    await charged('munmap of the private anon mapping', () => syscall(c, m, pid, 'munmap', [anon, GiB]));
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('charges what the kernel charges', () => {
    expect(deltas).toEqual({
      'private anon writable': GIB_KB,
      'private read-only': 0,
      MAP_NORESERVE: 0,
      'shared anon': GIB_KB,
      'read-only then mprotect writable': GIB_KB,
      'file MAP_PRIVATE writable': GIB_KB,
      'file MAP_SHARED': 0,
      'munmap of the private anon mapping': -GIB_KB,
    });
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'table');
  });
});

describe('mode 2 (strict) and mode 0 (heuristic) refusals', () => {
  let srv: EmbeddedServer;
  const got: Record<string, number> = {};
  let mallocResult: { value: bigint; signal: string } | undefined;
  let kills = -1;
  let brkBefore = 0;
  let brkAfter = 0;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'strict', { ramBytes: GiB, swapBytes: 256 * MiB });
    await sysctl(c, m, 'vm.overcommit_memory', 2);
    const pid = await spawn(c, m, 'user', { uid: 1000 });
    // __vm_enough_memory() for a task without CAP_SYS_ADMIN: allowed = CommitLimit - admin_reserve
    // - min(total_vm / 32, user_reserve); the request succeeds when Committed_AS + pages < allowed.
    const mem = await meminfo(c, m);
    const totalVm = (await status(c, m, pid)).VmSize / 4;
    const admin = (await sysctl(c, m, 'vm.admin_reserve_kbytes')) / 4;
    const user = (await sysctl(c, m, 'vm.user_reserve_kbytes')) / 4;
    const allowed = mem.CommitLimit / 4 - admin - Math.min(Math.floor(totalVm / 32), user);
    const room = allowed - mem.Committed_AS / 4;
    got.room = room;
    got.atLimit = await mmap(c, m, pid, room * PAGE);
    got.committedAfterRefusal = (await meminfo(c, m)).Committed_AS - mem.Committed_AS;
    got.belowLimit = await mmap(c, m, pid, (room - 1) * PAGE);
    got.onePageMore = await mmap(c, m, pid, PAGE);
    brkBefore = await syscall(c, m, pid, 'brk', [0]);
    brkAfter = await syscall(c, m, pid, 'brk', [brkBefore + MiB]);
    const r = await c.heap.malloc({ target: { machine: m, pid, tid: 0 }, size: BigInt(MiB) });
    mallocResult = { value: r.result!.value, signal: r.result!.signal };
    kills = (await c.oom.listKills({ machine: m })).kills.length;
    // Mode 0 on the same machine: only a single request larger than RAM + swap is refused.
    await sysctl(c, m, 'vm.overcommit_memory', 0);
    const ramSwapPages = mem.MemTotal / 4 + mem.SwapTotal / 4;
    got.mode0Fits = await mmap(c, m, pid, ramSwapPages * PAGE, { prot: PROT_READ | PROT_WRITE });
    got.mode0FitsAgain = await mmap(c, m, pid, ramSwapPages * PAGE);
    got.mode0TooBig = await mmap(c, m, pid, (ramSwapPages + 1) * PAGE);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('mode 2: the mmap that would reach the limit fails with ENOMEM and charges nothing; one page less succeeds', () => {
    expect(got.room).toBeGreaterThan(1000);
    expect(got.atLimit).toBe(ENOMEM);
    expect(got.committedAfterRefusal).toBe(0);
    expect(got.belowLimit).toBeGreaterThan(0);
    expect(got.onePageMore).toBe(ENOMEM);
  });

  it('mode 2: brk fails (returns the old break) and malloc returns NULL; nobody is killed', () => {
    expect(brkAfter).toBe(brkBefore);
    expect(mallocResult).toEqual({ value: 0n, signal: '' });
    expect(kills).toBe(0);
  });

  it('mode 0: a request of RAM + swap pages succeeds, twice (not cumulative); one page more fails', () => {
    expect(got.mode0Fits).toBeGreaterThan(0);
    expect(got.mode0FitsAgain).toBeGreaterThan(0);
    expect(got.mode0TooBig).toBe(ENOMEM);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'strict');
  });
});
