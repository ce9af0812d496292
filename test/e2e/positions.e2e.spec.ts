// Log positions travel with every call between services (docs/architecture.md "Subjects"), so
// a chain of calls appends without meeting a record it did not know of. In JetStream each such
// conflict costs a refused publish (10071), reads of the records missed and a second publish.
// The one conflict the design leaves: the heap appends the last record of a heap call after
// vma has replied, so a command that next enters vma straight from a client (a spawn) meets
// that one heap record. Anything else is a position some service failed to pass or merge.
import type { AppendRequest, AppendResult } from '@mmsim/eventlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';
import { runOomScenario } from './support/oom-scenario.js';
import { envelopesOf } from '../replay/support/tamper.js';

describe('log positions: appends meet no record they should have known of', () => {
  let srv: EmbeddedServer;
  const conflicts: { service: string; firstSeq: number; missed: number }[] = [];
  let appends = 0;

  beforeAll(async () => {
    srv = await startEmbedded();
    const log = srv.server.log;
    const append = log.append.bind(log);
    log.append = async (req: AppendRequest): Promise<AppendResult> => {
      const r = await append(req);
      appends++;
      if (r.missed > 0) conflicts.push({ service: req.service, firstSeq: Number(r.envelopes[0].seq), missed: r.missed });
      return r;
    };
    const run = await runOomScenario(srv.client, 'pos', { scale: 2 });
    await srv.client.machines.sysctl({ machine: run.machine, name: 'vm.panic_on_oom', value: '0' }); // vma -> oom
    await srv.client.vma.spawn({ machine: run.machine, name: 'late', uid: 0, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n });
    await srv.stop();
  }, 60_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('each conflict is one heap record a client command met on entering vma', () => {
    expect(appends).toBeGreaterThan(100);
    const envelopes = envelopesOf(srv.logFile('pos'));
    for (const c of conflicts) {
      const missedRecord = envelopes[c.firstSeq - 2];
      expect({ ...c, missedService: missedRecord.service }).toMatchObject({ missed: 1, missedService: 'heap' });
      // The missed record ends a heap call; the conflicting append starts a command of vma's chain.
      expect(['vma', 'frames', 'oom']).toContain(c.service);
    }
    // One per process spawned after a heap call, at most (db, cache, batch, leaky, late), and the sysctl.
    expect(conflicts.length).toBeLessThanOrEqual(6);
  });
});
