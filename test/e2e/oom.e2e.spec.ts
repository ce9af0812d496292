// The whole architecture in embedded mode: the four services in one process (startAllInOne on
// a free port, a temporary log directory), driven through the SDK over gRPC until the OOM
// killer acts. The checks (support/oom-checks.ts) compute the expected victim from the task
// list and the reference rule, and check the task list and /proc/meminfo after the kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { replayFile } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';
import { oomChecks } from './support/oom-checks.js';
import { runOomScenario, type OomRun } from './support/oom-scenario.js';

describe('embedded mode: malloc until the OOM killer acts', () => {
  let srv: EmbeddedServer;
  let run: OomRun;

  beforeAll(async () => {
    srv = await startEmbedded();
    run = await runOomScenario(srv.client, 'oom1');
  });
  afterAll(async () => {
    await srv?.dispose();
  });

  oomChecks(() => run);

  it('the victim\'s /proc files are gone (NOT_FOUND), the survivors\' are there', async () => {
    const victim = run.kills[0].victim;
    await expect(srv.client.readProc(run.machine, `/proc/${victim}/status`)).rejects.toMatchObject({ code: status.NOT_FOUND });
    const status1 = (await srv.client.readProc(run.machine, `/proc/${run.pids.leaky}/status`)).text;
    const leaky = run.tasksAfter.find((t) => t.pid === run.pids.leaky)!;
    expect(status1).toMatch(new RegExp(`^VmRSS:\\s+${leaky.vmRssKb} kB$`, 'm'));
  });

  it('the log replays: every state hash and the OOM decision reproduce', async () => {
    const report = await replayFile(srv.logFile('oom1'), { registry: replayRegistry() });
    expect(report.divergence).toBeUndefined();
    expect(report.lastSeq).toBeGreaterThanOrEqual(Number(run.kills[0].seq));
  });
});
