// The whole architecture in distributed mode: frames, vma, heap and oom as four OS processes
// over NATS request/reply and the JetStream log, driven through the SDK with one endpoint per
// service. The same scenario and checks as test/e2e/oom.e2e.spec.ts, and: the final machine
// state, the OOM decision, every heap address and the log's bytes equal an embedded run of the
// same scenario and seed; the JetStream log replays cleanly (mmsim replay --jetstream).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectJetStreamEventLog, exportToFile, replayMachine } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { freshMachine } from '../support/nats.js';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';
import { oomChecks } from '../e2e/support/oom-checks.js';
import { runOomScenario, type OomRun } from '../e2e/support/oom-scenario.js';
import { MMSIM_BIN, natsForCluster, startCluster, type Cluster } from './support/cluster.js';

const nats = await natsForCluster();

describe.skipIf(nats.skip)(`distributed mode: four service processes over NATS (${nats.reason})`, () => {
  const { tenant, machine } = freshMachine('oom');
  let cluster: Cluster;
  let embedded: EmbeddedServer;
  let run: OomRun;
  let embeddedRun: OomRun;

  beforeAll(async () => {
    [cluster, embedded] = await Promise.all([startCluster(nats.url!), startEmbedded({ tenant })]);
    // The same scenario, seed, tenant and machine name in both modes, side by side.
    [run, embeddedRun] = await Promise.all([runOomScenario(cluster.client(tenant), machine), runOomScenario(embedded.client, machine)]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await embedded?.dispose();
  });

  oomChecks(() => run);

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
    const cli = spawnSync(process.execPath, [MMSIM_BIN, 'replay', `${tenant}/${machine}`, '--jetstream', nats.url!], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`of ${tenant}/${machine}`);
    expect(cli.stdout).toContain('every state hash and every recorded decision reproduced');
  });
});
