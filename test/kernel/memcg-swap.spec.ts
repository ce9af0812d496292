// cgroup v2 memory.swap.max through the services. Three cgroups with memory.max 48 MiB on a
// machine with 512 MiB of swap, each with a process writing 64 MiB of anonymous memory:
//  - /swapping (no swap limit): reclaim inside the cgroup swaps the rest out; the process lives,
//    memory.swap.current shows what went to swap;
//  - /tenant (memory.swap.max 0): reclaim may not touch its anon pages (no swap left for the
//    memcg), nothing else is reclaimable: the memcg OOM killer takes the process; nothing of it
//    was ever swapped;
//  - /capped (memory.swap.max 8 MiB): swaps exactly 8 MiB (2048 pages) out, then runs out and is
//    killed; its exit frees the slots, which uncharges memory.swap.current back to 0.
// The machine's log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { createMachine, expectLogReplays, MiB, mmap, PAGE, spawn, startEmbedded, touch, vmstat, type EmbeddedServer } from './support.js';

async function cg(c: MmsimClient, machine: MachineRef, op: 'mkdir' | 'write' | 'read', path: string, file = '', value = ''): Promise<string> {
  return (await c.vma.cgroup({ machine, op, path, file, value, pid: 0 })).value;
}
const lines = (text: string): Record<string, number> => Object.fromEntries(text.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));

describe('memory.swap.max through the Cgroup RPC', () => {
  let srv: EmbeddedServer;
  const r: Record<string, Record<string, unknown>> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'swapmax', { ramBytes: 512 * MiB, swapBytes: 512 * MiB });
    for (const [name, swapMax] of [['/swapping', ''], ['/tenant', '0'], ['/capped', String(8 * MiB)]] as const) {
      const x: Record<string, unknown> = {};
      r[name] = x;
      await cg(c, m, 'mkdir', name);
      await cg(c, m, 'write', name, 'memory.max', String(48 * MiB));
      if (swapMax !== '') await cg(c, m, 'write', name, 'memory.swap.max', swapMax);
      x.swapMax = (await cg(c, m, 'read', name, 'memory.swap.max')).trim();
      const pid = await spawn(c, m, name.slice(1), { cgroup: name });
      const a = await mmap(c, m, pid, 64 * MiB);
      const before = (await vmstat(c, m)).pswpout;
      x.touch = await touch(c, m, pid, a, 64 * MiB);
      x.pswpout = (await vmstat(c, m)).pswpout - before;
      x.current = Number(await cg(c, m, 'read', name, 'memory.current'));
      x.swapCurrent = Number(await cg(c, m, 'read', name, 'memory.swap.current'));
      x.swapEventsText = await cg(c, m, 'read', name, 'memory.swap.events');
      x.events = lines(await cg(c, m, 'read', name, 'memory.events'));
    }
    await srv.stop();
  }, 180_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('without a swap limit the cgroup swaps what does not fit and the process lives', () => {
    const x = r['/swapping'];
    expect(x.swapMax).toBe('max');
    expect(x.touch).toMatchObject({ ok: true });
    expect((x.events as Record<string, number>).oom_kill).toBe(0);
    // 64 MiB of anon pages: what is not resident (memory.current <= 48 MiB, page tables and the
    // stack included) is on swap, charged to the cgroup.
    expect(x.current as number).toBeLessThanOrEqual(48 * MiB);
    expect(x.swapCurrent as number).toBeGreaterThanOrEqual(16 * MiB);
    expect(x.swapCurrent).toBe((x.pswpout as number) * PAGE);
    expect(x.swapEventsText).toBe('high 0\nmax 0\nfail 0\n');
  });

  it('memory.swap.max 0: no page of the cgroup goes to swap; the memcg OOM killer runs instead', () => {
    const x = r['/tenant'];
    expect(x.swapMax).toBe('0');
    expect(x.touch).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect(x.events).toMatchObject({ oom: 1, oom_kill: 1 });
    expect(x.pswpout).toBe(0);
    expect(x.swapCurrent).toBe(0);
    // Reclaim never scanned its anon pages (can_reclaim_anon_pages is false), so no swap-out was even tried.
    expect(x.swapEventsText).toBe('high 0\nmax 0\nfail 0\n');
  });

  it('memory.swap.max 8 MiB: exactly 2048 pages go to swap, then the OOM killer; the exit uncharges the swap', () => {
    const x = r['/capped'];
    expect(x.swapMax).toBe(String(8 * MiB));
    expect(x.touch).toMatchObject({ ok: false, signal: 'SIGKILL' });
    expect(x.events).toMatchObject({ oom: 1, oom_kill: 1 });
    expect(x.pswpout).toBe(2048);
    expect(x.swapCurrent).toBe(0);
    expect(x.current).toBe(0);
    const ev = lines(x.swapEventsText as string);
    expect(ev.high).toBe(0);
    // The device never ran out: every failed swap-out was the limit's.
    expect(ev.fail).toBe(ev.max);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'swapmax');
  });
});
