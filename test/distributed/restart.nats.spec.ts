// A service process dies (SIGKILL) and starts again: it rebuilds its state from JetStream and
// the next calls go on as if nothing happened. The proof: the same calls on an embedded server
// that was never interrupted return the same addresses, end in the same task list and
// /proc/meminfo, and write the same log bytes; the JetStream log has dense seqs and
// service_seqs, one message id per record, and replays cleanly.
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEventLog, exportToFile, replayMachine } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { MachineServiceClient, type CreateMachineRequest, type CreateMachineResponse, type MachineRef, type TaskInfo } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { freshMachine } from '../support/nats.js';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';
import { createScenarioMachine, listTasks, mallocAndWrite, meminfo, MIB } from '../e2e/support/oom-scenario.js';
import { natsForCluster, startCluster, type Cluster, type Service } from './support/cluster.js';
import { rawRecords, type RawRecord } from './support/stream.js';

const nats = await natsForCluster();

/** What the workload saw: every address, and the state at the end. */
interface Seen {
  addresses: bigint[];
  tasks: TaskInfo[];
  meminfo: string;
}

const spawn = async (c: MmsimClient, machine: MachineRef, name: string): Promise<number> =>
  (await c.vma.spawn({ machine, name, uid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid;

/** Small (brk heap) and large (mmapped) blocks, a free in between: the allocator's state matters for the next address. */
async function churn(c: MmsimClient, machine: MachineRef, pid: number, seen: Seen): Promise<void> {
  const a = await mallocAndWrite(c, machine, pid, 3000, seen.addresses);
  await mallocAndWrite(c, machine, pid, 200_000, seen.addresses);
  await c.heap.free({ target: { machine, pid, tid: 0 }, ptr: a });
  await mallocAndWrite(c, machine, pid, 1 * MIB, seen.addresses);
  await mallocAndWrite(c, machine, pid, 2900, seen.addresses); // reuses the freed block
}

/** The workload in phases; a service dies and comes back between phases in the distributed run. */
const phases: ((c: MmsimClient, m: MachineRef, seen: Seen, pids: number[]) => Promise<void>)[] = [
  async (c, m, seen, pids) => {
    pids.push(await spawn(c, m, 'alpha'), await spawn(c, m, 'beta'));
    await churn(c, m, pids[0], seen);
    await churn(c, m, pids[1], seen);
  },
  async (c, m, seen, pids) => {
    await churn(c, m, pids[0], seen);
    pids.push(await spawn(c, m, 'gamma'));
    await churn(c, m, pids[2], seen);
  },
  async (c, m, seen, pids) => {
    await churn(c, m, pids[0], seen);
    await churn(c, m, pids[1], seen);
  },
  async (c, m, seen, pids) => {
    await churn(c, m, pids[2], seen);
    await c.vma.exit({ machine: m, pid: pids[1], code: 0 });
    await churn(c, m, pids[0], seen);
  },
];
/** Killed after phase i (and started again before phase i+1). */
const KILLED: readonly Service[] = ['vma', 'heap', 'frames'];

async function runWorkload(c: MmsimClient, machine: string, between: (i: number) => Promise<void>): Promise<Seen> {
  const m = await createScenarioMachine(c, machine, 11, 2);
  const seen: Seen = { addresses: [], tasks: [], meminfo: '' };
  const pids: number[] = [];
  for (let i = 0; i < phases.length; i++) {
    if (i > 0) await between(i - 1);
    await phases[i](c, m, seen, pids);
  }
  seen.tasks = await listTasks(c, m, true);
  seen.meminfo = await meminfo(c, m);
  return seen;
}

describe.skipIf(nats.skip)(`restart: a service killed with SIGKILL rebuilds from JetStream (${nats.reason})`, () => {
  const { tenant, machine } = freshMachine('restart');
  let cluster: Cluster;
  let embedded: EmbeddedServer;
  let distributed: Seen;
  let reference: Seen;
  let records: RawRecord[];
  const restarts: string[] = [];

  beforeAll(async () => {
    [cluster, embedded] = await Promise.all([startCluster(nats.url!), startEmbedded({ tenant })]);
    const client = cluster.client(tenant);
    const uninterrupted = runWorkload(embedded.client, machine, async () => undefined);
    distributed = await runWorkload(client, machine, async (i) => {
      const service = KILLED[i];
      await cluster.kill(service, 'SIGKILL');
      const p = await cluster.restart(service);
      restarts.push(p.stderr());
    });
    reference = await uninterrupted;
    records = await rawRecords(nats.url!, tenant, machine);
  }, 150_000);
  afterAll(async () => {
    await cluster?.stop();
    await embedded?.dispose();
  });

  it('each restarted service rebuilt the machine from the log', () => {
    expect(restarts).toHaveLength(KILLED.length);
    KILLED.forEach((service, i) => {
      expect(restarts[i]).toMatch(new RegExp(`${service}: rebuilt 1 machine\\(s\\), [1-9]\\d* event\\(s\\)`));
    });
  });

  it('the calls after each restart return what an uninterrupted run returns, and end in the same state', () => {
    expect(distributed.addresses.length).toBeGreaterThan(20);
    expect(distributed.addresses).toEqual(reference.addresses);
    expect(distributed.tasks).toEqual(reference.tasks);
    expect(distributed.meminfo).toBe(reference.meminfo);
  });

  it('the log has no gap and no duplicate: dense seqs, dense service_seqs, one message id per record', () => {
    const envelopes = records.flatMap((r) => r.envelopes);
    expect(envelopes.map((e) => Number(e.seq))).toEqual(envelopes.map((_, i) => i + 1));
    const per = new Map<string, number>();
    for (const e of envelopes) {
      const want = (per.get(e.service) ?? 0) + 1;
      expect(Number(e.serviceSeq), `seq ${e.seq} ${e.service}`).toBe(want);
      per.set(e.service, want);
    }
    const ids = records.map((r) => r.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    // The id is derived from the record's first event: <tenant>.<machine>.<service>.<service_seq>.
    for (const r of records) expect(r.msgId).toBe(`${tenant}.${machine}.${r.envelopes[0].service}.${r.envelopes[0].serviceSeq}`);
  });

  it('the JetStream log is byte for byte the uninterrupted embedded log, and replays cleanly', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url! });
    const out = join(embedded.dir, 'restart.mmlog');
    try {
      await exportToFile(log, { tenant, machine }, out);
      const r = await replayMachine(log, { tenant, machine }, { registry: replayRegistry() });
      expect(r.divergence).toBeUndefined();
      expect(r.envelopes).toBe(records.flatMap((x) => x.envelopes).length);
    } finally {
      await log.close();
    }
    await embedded.stop();
    expect(readFileSync(out).equals(readFileSync(embedded.logFile(machine, tenant)))).toBe(true);
  });

  it('a CreateMachine that stopped half-way (oom down) completes when retried with the same request id, and only then', async () => {
    const ref = { tenant, machine: `${machine}-half` };
    const req: CreateMachineRequest = { machine: ref, profile: 'linux-6.18', ramBytes: 256n * BigInt(MIB), swapBytes: 0n, cpus: 2, seed: 5n, sysctls: [] };
    const grpc = new MachineServiceClient(cluster.endpoints.vma, credentials.createInsecure());
    const create = (rid: string) =>
      new Promise<CreateMachineResponse>((resolve, reject) => {
        const md = new Metadata();
        md.set('mmsim-tenant', tenant);
        md.set('mmsim-request-id', rid);
        grpc.createMachine(req, md, { deadline: Date.now() + 60_000 }, (e: ServiceError | null, r: CreateMachineResponse) => (e ? reject(e) : resolve(r)));
      });
    try {
      await cluster.kill('oom', 'SIGKILL');
      // frames booted the machine and vma created it; oom cannot be told
      await expect(create('half-1')).rejects.toThrow(/oom/);
      await cluster.restart('oom');
      // another request for the same name is refused: the machine exists
      await expect(create('half-2')).rejects.toThrow(/vma\.MACHINE_EXISTS/);
      // the retry finishes the creation; a second retry is answered from the first run
      const first = await create('half-1');
      const again = await create('half-1');
      expect(again.machine).toEqual(first.machine);
      expect(first.machine!.config!.ramBytes).toBe(256n * BigInt(MIB));
      const envelopes = (await rawRecords(nats.url!, tenant, ref.machine)).flatMap((r) => r.envelopes);
      expect(envelopes.map((e) => Number(e.seq))).toEqual(envelopes.map((_, i) => i + 1));
      // each service's first event is there once: frames booted once, vma created once, oom configured once
      const firstOf = envelopes.filter((e) => Number(e.serviceSeq) === 1).map((e) => e.service).sort();
      expect(firstOf).toEqual(['frames', 'oom', 'vma']);
      const kinds = envelopes.map((e) => (e.event?.value as { event?: { $case: string } } | undefined)?.event?.$case ?? '');
      expect(kinds.filter((k) => k === 'machineBooted' || k === 'machineCreated' || k === 'oomInitialized').sort()).toEqual(['machineBooted', 'machineCreated', 'oomInitialized']);
      // and the machine works: a process can be spawned, and the log replays
      await spawn(cluster.client(tenant), ref, 'after');
      const log = await connectJetStreamEventLog({ servers: nats.url! });
      try {
        const r = await replayMachine(log, ref, { registry: replayRegistry() });
        expect(r.divergence).toBeUndefined();
      } finally {
        await log.close();
      }
    } finally {
      grpc.close();
    }
  }, 120_000);
});
