// The whole architecture in distributed mode: frames, vma, heap and oom as four OS processes
// over NATS request/reply and the JetStream log, driven through the SDK with one endpoint per
// service. The same scenario and checks as test/e2e/oom.e2e.spec.ts, and: the final machine
// state, the OOM decision, every heap address and the log's bytes equal an embedded run of the
// same scenario and seed; the JetStream log replays cleanly (mmsim replay --jetstream).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEventLog, exportToFile, replayMachine } from '@mmsim/eventlog';
import { bufferIo, main } from '@mmsim/cli';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { freshMachine } from '../support/nats.js';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';
import { oomChecks } from '../e2e/support/oom-checks.js';
import { runOomScenario, type OomRun } from '../e2e/support/oom-scenario.js';
import { natsForCluster, startCluster, type Cluster } from './support/cluster.js';

const nats = await natsForCluster();
/** Half size (128 MiB of RAM): the same story in half the calls, on a machine shared with others. */
const SCALE = 2;

describe.skipIf(nats.skip)(`distributed mode: four service processes over NATS (${nats.reason})`, () => {
  const { tenant, machine } = freshMachine('oom');
  let cluster: Cluster;
  let embedded: EmbeddedServer;
  let run: OomRun;
  let embeddedRun: OomRun;

  beforeAll(async () => {
    [cluster, embedded] = await Promise.all([startCluster(nats.url!), startEmbedded({ tenant })]);
    // The same scenario, seed, tenant and machine name in both modes, side by side.
    [run, embeddedRun] = await Promise.all([runOomScenario(cluster.client(tenant), machine, { scale: SCALE }), runOomScenario(embedded.client, machine, { scale: SCALE })]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await embedded?.dispose();
  });

  oomChecks(() => run, { scale: SCALE });

  it('ends in the same machine state as the embedded run: tasks, meminfo, the OOM decision, every heap address', () => {
    expect(run.pids).toEqual(embeddedRun.pids);
    expect(run.fatalStep).toBe(embeddedRun.fatalStep);
    expect(run.addresses).toEqual(embeddedRun.addresses);
    expect(run.tasksBefore).toEqual(embeddedRun.tasksBefore);
    expect(run.tasksAfter).toEqual(embeddedRun.tasksAfter);
    expect(run.allTasksAfter).toEqual(embeddedRun.allTasksAfter);
    expect(run.meminfoBefore).toBe(embeddedRun.meminfoBefore);
    expect(run.meminfoAfter).toBe(embeddedRun.meminfoAfter);
    expect(run.kills).toEqual(embeddedRun.kills);
  });

  it('the JetStream log, exported, is byte for byte the embedded file log', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url! });
    const out = join(embedded.dir, 'from-jetstream.mmlog');
    try {
      await exportToFile(log, { tenant, machine }, out);
    } finally {
      await log.close();
    }
    const a = readFileSync(out);
    const b = readFileSync(embedded.logFile(machine, tenant));
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(true);
  });

  it('replays from JetStream: every state hash and the OOM decision reproduce (API and `mmsim replay --jetstream`)', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url! });
    try {
      const report = await replayMachine(log, { tenant, machine }, { registry: replayRegistry() });
      expect(report.divergence).toBeUndefined();
      expect(report.lastSeq).toBe(Number((await log.tip({ tenant, machine }))!.seq));
    } finally {
      await log.close();
    }
    // The CLI's command, run in this process (test/e2e/cli.e2e.spec.ts runs the binary itself).
    const cli = bufferIo();
    expect(await main(['replay', `${tenant}/${machine}`, '--jetstream', nats.url!], cli), cli.stderr()).toBe(0);
    expect(cli.stdout()).toContain(`of ${tenant}/${machine}`);
    expect(cli.stdout()).toContain('every state hash and every recorded decision reproduced');
    const none = bufferIo();
    expect(await main(['replay', `${tenant}/no-such-machine`, '--jetstream', nats.url!], none)).toBe(1);
    expect(none.stderr()).toContain(`JetStream has no log for ${tenant}/no-such-machine`);
  });

  it('the CLI reaches the four servers with --endpoints: ps, meminfo, tail (LogService over JetStream)', async () => {
    const e = cluster.endpoints;
    const at = ['--endpoints', `frames=${e.frames},vma=${e.vma},heap=${e.heap},oom=${e.oom}`, '--tenant', tenant, '--machine', machine];
    const cli = async (...argv: string[]) => {
      const io = bufferIo();
      const code = await main([...argv, ...at], io);
      expect(code, io.stderr()).toBe(0);
      return io.stdout();
    };
    expect(await cli('ps')).toContain('leaky');
    expect(await cli('meminfo')).toBe(run.meminfoAfter);
    const tail = (await cli('tail', '-n', '3')).trim().split('\n');
    expect(tail.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([1, 2, 3]);
    expect(tail[0]).toMatch(/frames\s+1\s+MachineBooted/);
  });

  it('bad calls cross the bus with their status and message (a rejection by vma, answered through the heap)', async () => {
    const c = cluster.client(tenant);
    const m = { tenant, machine };
    const nowhere = { tenant: '', machine: 'nowhere' };
    await expect(c.heap.malloc({ target: { machine: nowhere, pid: 1000, tid: 0 }, size: 8n })).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'vma.NO_SUCH_MACHINE: no machine nowhere' });
    await expect(c.heap.malloc({ target: { machine: m, pid: 4242, tid: 0 }, size: 8n })).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'vma.NO_SUCH_PID: no process 4242' });
    await expect(c.readProc(nowhere, '/proc/meminfo')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(c.oom.listKills({ machine: nowhere })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const eve = cluster.client('eve');
    await expect(eve.heap.malloc({ target: { machine: m, pid: run.pids.leaky, tid: 0 }, size: 8n })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
