import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { eventSubject } from '@mmsim/bus';
import { describe, expect, it } from 'vitest';
import { freshMachine, useNats } from '../../../../test/support/nats.js';
import { toEnvelopeEvent } from '../codecs/codec.js';
import { encodeBatch } from '../codecs/envelope.js';
import { exportToFile } from '../export.js';
import { FileEventLog } from '../file/file-event-log.js';
import { connectJetStreamEventLog } from '../jetstream/jetstream-event-log.js';
import { counter, counterCodec, counterRegistry, writeCounterLog } from './counter.testing.js';
import { replayMachine } from './replay.js';

const nats = await useNats();
const ADDS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];

describe.skipIf(nats.skip)(`replay from JetStream (${nats.reason})`, () => {
  it('replays a JetStream log, and exports it byte for byte as the file log writes the same appends', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url });
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-replay-js-'));
    try {
      const m = freshMachine();
      const written = await writeCounterLog(log, m, ADDS);
      const report = await replayMachine(log, m, { registry: counterRegistry });
      expect(report).toMatchObject({ envelopes: 10, lastSeq: 10, divergence: undefined });
      expect(report.aggregates[0].stateHash).toBe(counter.stateHash(written.state));

      const fileLog = await FileEventLog.open(join(dir, 'log'));
      await writeCounterLog(fileLog, m, ADDS);
      await fileLog.close();
      await exportToFile(log, m, join(dir, 'js.mmlog'));
      expect(readFileSync(join(dir, 'js.mmlog')).equals(readFileSync(join(dir, 'log', m.tenant, `${m.machine}.mmlog`)))).toBe(true);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('catches an altered event in a JetStream log at its seq', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url });
    try {
      const good = freshMachine();
      await writeCounterLog(log, good, ADDS);
      // Copy the records to another machine's subject, with seq 4's event altered (n 1 -> 2, total 9 -> 10: consistent, so only the hash can tell).
      const bad = freshMachine();
      const js = jetstream(log.connection);
      for await (const r of log.records(good)) {
        const envelopes = r.envelopes.map((e) => ({
          ...e,
          tenant: bad.tenant,
          machine: bad.machine,
          ...(e.seq === 4n ? { event: toEnvelopeEvent(counterCodec, { type: 'Added', n: 2, total: 10 }) } : {}),
        }));
        await js.publish(eventSubject(bad.tenant, bad.machine), encodeBatch(envelopes));
      }
      const report = await replayMachine(log, bad, { registry: { frames: { ...counterRegistry.frames, verify: undefined } } });
      expect(report.divergence).toMatchObject({ seq: 4, service: 'frames', eventType: 'Added', detail: 'frames state hash after the event differs' });
      expect(report.divergence?.got).toBe(counter.stateHash({ value: 10, adds: 4 }));
      expect(report.divergence?.expected).toBe(counter.stateHash({ value: 9, adds: 4 }));
    } finally {
      await log.close();
    }
  });
});
