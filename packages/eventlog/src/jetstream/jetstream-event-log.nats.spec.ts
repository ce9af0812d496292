import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { eventSubject } from '@mmsim/bus';
import { describe, expect, it } from 'vitest';
import { freshMachine, startPrivateNatsServer, useNats } from '../../../../test/support/nats.js';
import { EMPTY_POSITION } from '../event-log.js';
import { appendLower, appendUpper, logContract } from '../log.contract.js';
import { connectJetStreamEventLog, JetStreamEventLog } from './jetstream-event-log.js';

const nats = await useNats();
const g = (first: number, n = 1) => ({ type: 'Granted', first, n }) as const;

describe.skipIf(nats.skip)(`JetStreamEventLog (${nats.reason})`, () => {
  logContract('JetStreamEventLog', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url, name: 'eventlog-test' });
    const { tenant } = freshMachine();
    let n = 0;
    return { log, machine: () => ({ tenant, machine: `m${++n}` }), close: () => log.close() };
  });

  it('publishes each decision as one message with a derived msg id and the expected subject sequence', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url });
    const m = freshMachine();
    try {
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100), g(101)]);
      const b = await appendLower(log, m, a.position, [g(102)]);
      const last = await log.connection.request(`$JS.API.DIRECT.GET.${log.stream}.${eventSubject(m.tenant, m.machine)}`, '');
      expect(last.headers?.get('Nats-Msg-Id')).toBe(`${m.tenant}.${m.machine}.vma.3`);
      expect(Number(last.headers?.get('Nats-Sequence'))).toBe(b.position.streamSeq);
      expect(b.position.streamSeq).toBeGreaterThan(a.position.streamSeq);
    } finally {
      await log.close();
    }
  });

  it('fences a second log instance (another process) that writes the same service from a stale position', async () => {
    const first = await connectJetStreamEventLog({ servers: nats.url });
    const second = await connectJetStreamEventLog({ servers: nats.url });
    const m = freshMachine();
    try {
      const a = await appendLower(first, m, EMPTY_POSITION, [g(100)]);
      await appendLower(first, m, a.position, [g(101)]);
      // `second` started when the log held only seq 1, and writes vma too.
      await expect(appendLower(second, m, a.position, [g(900)])).rejects.toMatchObject({ name: 'LogFencedError', seq: 2, serviceSeq: 2 });
      // Same msg id as first's record (vma #1) but other bytes: fenced too, even from scratch.
      await expect(appendLower(second, m, EMPTY_POSITION, [g(900)])).rejects.toMatchObject({ name: 'LogFencedError' });
      expect(await first.tip(m)).toMatchObject({ seq: 2 });
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('reads a long log with a consumer and seeks to a seq in O(log n) direct gets', async () => {
    const log = await connectJetStreamEventLog({ servers: nats.url });
    const m = freshMachine();
    try {
      let pos = EMPTY_POSITION;
      for (let i = 0; i < 60; i++) pos = (await appendLower(log, m, pos, [g(100 + 2 * i), g(101 + 2 * i)])).position;
      expect(pos.seq).toBe(120);
      const seqs: number[] = [];
      for await (const e of log.read(m, { fromSeq: 77, toSeq: 90 })) seqs.push(Number(e.seq));
      expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => 77 + i));
      // A writer that missed 59 records (more than the direct-get limit) catches up and appends.
      const ok = await appendUpper(log, m, EMPTY_POSITION, [{ type: 'Took', first: 1, n: 1 }]);
      expect(ok).toMatchObject({ missed: 60, position: { seq: 121, serviceSeqs: { vma: 120, heap: 1 } } });
    } finally {
      await log.close();
    }
  });

  it('creates the stream when it is missing, with file storage, direct gets and a duplicate window', async () => {
    const srv = await startPrivateNatsServer();
    try {
      const log = await connectJetStreamEventLog({ servers: srv.url });
      const nc = await connect({ servers: srv.url });
      const info = await (await jetstreamManager(nc)).streams.info('MMSIM');
      expect(info.config).toMatchObject({ subjects: ['mmsim.evt.>'], storage: 'file', allow_direct: true, duplicate_window: 120_000_000_000 });
      await nc.close();
      await log.close();
    } finally {
      await srv.dispose();
    }
  });

  it('survives a server restart: the log is still there and appends continue', async () => {
    const srv = await startPrivateNatsServer();
    try {
      const nc = await connect({ servers: srv.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const log = await JetStreamEventLog.open(nc, { publishTimeoutMs: 1000, publishAttempts: 10 });
      const m = freshMachine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      await srv.restart();
      const b = await appendLower(log, m, a.position, [g(101)]);
      expect(b.position.seq).toBe(2);
      await log.close();
      await nc.close();
    } finally {
      await srv.dispose();
    }
  });
});
