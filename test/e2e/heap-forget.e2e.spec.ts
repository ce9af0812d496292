// A process that vma ends (a Kill here; an OOM kill of another process's request alike) is
// forgotten by the heap service without a call of its own: the heap asks vma which of its
// processes have ended once every SWEEP_EVERY of its own events, so a dead process's heap is
// not held for ever. The point depends only on the log: the log replays, and the same calls
// give the same bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLogFile, replayFile } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { SWEEP_EVERY } from '@mmsim/service-heap';
import type { Envelope, MachineRef } from '@mmsim/proto';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';

const MiB = 2n ** 20n;

async function heapEvents(file: string): Promise<{ seq: number; serviceSeq: number; type: string; value: Record<string, unknown> }[]> {
  const out: { seq: number; serviceSeq: number; type: string; value: Record<string, unknown> }[] = [];
  for await (const rec of readLogFile(file)) {
    for (const e of rec.envelopes as Envelope[]) {
      if (e.event?.$case !== 'heap') continue;
      const inner = (e.event.value as { event?: { $case: string; value: Record<string, unknown> } }).event;
      if (inner) out.push({ seq: Number(e.seq), serviceSeq: Number(e.serviceSeq), type: inner.$case, value: inner.value });
    }
  }
  return out;
}

async function workload(srv: EmbeddedServer, name: string): Promise<{ victim: number; worker: number }> {
  const c = srv.client;
  const machine: MachineRef = { tenant: c.tenant, machine: name };
  await c.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 512n * MiB, swapBytes: 0n, cpus: 2, seed: 4n, sysctls: [] });
  const spawn = async (n: string) => (await c.vma.spawn({ machine, name: n, uid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid;
  const victim = await spawn('victim');
  const worker = await spawn('worker');
  const t = (pid: number) => ({ machine, pid, tid: 0 });
  for (let i = 0; i < 8; i++) await c.heap.malloc({ target: t(victim), size: 3000n });
  await c.vma.kill({ machine, pid: victim, signal: 'SIGKILL' });
  // The worker's calls move the heap's own service_seq past the next multiple of SWEEP_EVERY.
  for (let i = 0; i < SWEEP_EVERY + 8; i++) {
    const p = await c.heap.malloc({ target: t(worker), size: 200n });
    await c.heap.free({ target: t(worker), ptr: p.result!.value });
  }
  return { victim, worker };
}

describe('the heap forgets processes vma ended, without a call of theirs', () => {
  let srv: EmbeddedServer;
  let pids: { victim: number; worker: number };
  beforeAll(async () => {
    srv = await startEmbedded();
    pids = await workload(srv, 'forget');
    await workload(srv, 'forget-2');
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('the killed process is forgotten at the sweep, with how it ended, and never called again', async () => {
    const ev = await heapEvents(srv.logFile('forget'));
    const forgot = ev.filter((e) => e.type === 'heapForgotten');
    expect(forgot.map((e) => e.value.pid)).toEqual([pids.victim]);
    expect(String(forgot[0].value.reason)).toMatch(/killed|SIGKILL|reaped/i);
    // at the first multiple of SWEEP_EVERY the heap's events crossed, not at a call of the victim's
    expect(forgot[0].serviceSeq).toBeGreaterThanOrEqual(SWEEP_EVERY);
    expect(forgot[0].serviceSeq).toBeLessThan(SWEEP_EVERY + 16);
    const victimCalls = ev.filter((e) => e.type !== 'heapForgotten' && e.value.pid === pids.victim);
    expect(Math.max(...victimCalls.map((e) => e.seq))).toBeLessThan(forgot[0].seq);
    // the heap no longer holds it: inspecting it says so
    await expect(srv.client.heap.inspectHeap({ target: { machine: { tenant: 'default', machine: 'forget' }, pid: pids.victim, tid: 0 } })).rejects.toThrow(/gone|no allocator call|no heap/);
  });

  it('the log replays, and the same calls on another machine forget at the same place', async () => {
    for (const m of ['forget', 'forget-2']) expect((await replayFile(srv.logFile(m), { registry: replayRegistry() })).divergence, m).toBeUndefined();
    const a = await heapEvents(srv.logFile('forget'));
    const b = await heapEvents(srv.logFile('forget-2'));
    expect(b.map((e) => [e.serviceSeq, e.type])).toEqual(a.map((e) => [e.serviceSeq, e.type]));
  });
});
