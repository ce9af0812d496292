// glibc's checks end a process the way the real one ends: free() of a pointer already in the
// tcache prints "free(): double free detected in tcache 2" and calls abort() (SIGABRT). The
// abort is an event, the process is gone from the kernel too (its memory back in MemFree), the
// machine carries on, and the log replays.
import { replayFile } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';

const MiB = 2 ** 20;
const memFreeKb = (meminfo: string): number => Number(/^MemFree:\s+(\d+) kB$/m.exec(meminfo)![1]);

describe('a glibc abort through the services', () => {
  let srv: EmbeddedServer;
  beforeAll(async () => {
    srv = await startEmbedded();
  });
  afterAll(async () => {
    await srv?.dispose();
  });

  it('SIGABRT with glibc\'s message; the kernel frees the process; others go on; the log replays', async () => {
    const c = srv.client;
    const machine = { tenant: '', machine: 'abort' };
    await c.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 256n * BigInt(MiB), swapBytes: 0n, cpus: 2, seed: 5n, sysctls: [] });
    const spawn = async (name: string) => (await c.vma.spawn({ machine, name, uid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid;
    const victim = await spawn('double-free');
    const other = await spawn('bystander');
    const t = (pid: number) => ({ machine, pid, tid: 0 });
    // 8 MiB of memory the process really uses, so its exit shows in MemFree.
    const big = (await c.heap.malloc({ target: t(victim), size: BigInt(8 * MiB) })).result!.value;
    await c.heap.write({ target: t(victim), ptr: big, offset: 0n, length: BigInt(8 * MiB) });
    const before = memFreeKb((await c.readProc(machine, '/proc/meminfo')).text);

    const p = (await c.heap.malloc({ target: t(victim), size: 24n })).result!.value;
    expect((await c.heap.free({ target: t(victim), ptr: p })).result).toMatchObject({ signal: '' });
    expect((await c.heap.free({ target: t(victim), ptr: p })).result).toMatchObject({ signal: 'SIGABRT', message: 'free(): double free detected in tcache 2' });

    const tasks = (await c.vma.listTasks({ machine, all: true })).tasks;
    expect(tasks.find((x) => x.pid === victim)).toBeUndefined(); // exited and reaped by init
    const after = memFreeKb((await c.readProc(machine, '/proc/meminfo')).text);
    expect(after - before).toBeGreaterThanOrEqual(8 * 1024); // its 8 MiB (and its other pages) came back
    await expect(c.heap.malloc({ target: t(victim), size: 24n })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND: no such process
    expect((await c.heap.malloc({ target: t(other), size: 24n })).result!.value).not.toBe(0n);

    const report = await replayFile(srv.logFile('abort'), { registry: replayRegistry() });
    expect(report.divergence).toBeUndefined();
  });
});
