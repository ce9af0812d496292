// The behaviour both EventLog implementations must have, as a vitest suite; file-event-log.spec.ts
// and jetstream-event-log.nats.spec.ts run it. Events are the toy aggregates' (test/support).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lower, lowerCodec, upperCodec, type LowerEvent, type UpperEvent } from '../../../test/support/toy-aggregates.js';
import { fromEnvelopeEvent, toEnvelopeEvent } from './codecs/codec.js';
import { AppendRequestError } from './append.js';
import { EMPTY_POSITION, type AppendResult, type EventLog, type LogPosition, type MachineRef } from './event-log.js';
import { exportToFile } from './export.js';
import { readLogFile } from './file/log-file.js';
import { replayEntry } from './replay/registry.js';
import { replayFile } from './replay/replay.js';

export interface LogUnderTest {
  readonly log: EventLog;
  /** A machine no other test uses. */
  machine(): MachineRef;
  close(): Promise<void>;
}

const H = (n: number) => n.toString(16).padStart(16, '0');

/** Appends lower's Granted events (one decision) as 'vma'. */
export function appendLower(log: EventLog, machine: MachineRef, expected: LogPosition, grants: readonly LowerEvent[], requestId = 'r'): Promise<AppendResult> {
  return log.append({
    machine,
    service: 'vma',
    events: grants.map((e, i) => ({ event: toEnvelopeEvent(lowerCodec, e), stateHash: H(e.first * 10 + i), simTimeNs: BigInt(e.first) * 1000n })),
    cause: { requestId, parentSeq: 0 },
    modelVersion: 1,
    expected,
  });
}

export function appendUpper(log: EventLog, machine: MachineRef, expected: LogPosition, took: readonly UpperEvent[], requestId = 'u'): Promise<AppendResult> {
  return log.append({
    machine,
    service: 'heap',
    events: took.map((e) => ({ event: toEnvelopeEvent(upperCodec, e), stateHash: H(e.first), simTimeNs: 7n })),
    cause: { requestId, parentSeq: 3 },
    modelVersion: 1,
    expected,
  });
}

const g = (first: number, n = 1): LowerEvent => ({ type: 'Granted', first, n });
const t = (first: number, n = 1): UpperEvent => ({ type: 'Took', first, n });
const seqs = (r: AppendResult) => r.envelopes.map((e) => Number(e.seq));
const serviceSeqs = (r: AppendResult) => r.envelopes.map((e) => Number(e.serviceSeq));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function logContract(name: string, make: () => Promise<LogUnderTest>): void {
  describe(`${name}: the EventLog contract`, () => {
    let under: LogUnderTest | undefined;
    const open = async () => (under = await make());
    afterEach(async () => {
      await under?.close();
      under = undefined;
    });

    it('numbers seqs densely per machine and per service, and keeps a decision as one record', async () => {
      const { log, machine } = await open();
      const m = machine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100)], 'req-1');
      expect([seqs(a), serviceSeqs(a), a.missed]).toEqual([[1], [1], 0]);
      expect(a.position).toMatchObject({ seq: 1, serviceSeqs: { vma: 1 } });
      const b = await appendUpper(log, m, a.position, [t(100), t(101)]);
      expect([seqs(b), serviceSeqs(b)]).toEqual([[2, 3], [1, 2]]);
      const c = await appendLower(log, m, b.position, [g(101, 5)]);
      expect([seqs(c), serviceSeqs(c)]).toEqual([[4], [2]]);
      expect(c.position).toMatchObject({ seq: 4, serviceSeqs: { vma: 2, heap: 2 } });

      const records = await collect(log.records(m));
      expect(records.map((r) => r.envelopes.map((e) => Number(e.seq)))).toEqual([[1], [2, 3], [4]]);
      expect((await collect(log.records(m, { fromSeq: 3 }))).map((r) => r.envelopes.length)).toEqual([2, 1]);
      expect((await collect(log.read(m, { fromSeq: 3, toSeq: 4 }))).map((e) => Number(e.seq))).toEqual([3, 4]);
      expect(await log.tip(m)).toMatchObject({ seq: 4 });

      const [first] = await collect(log.read(m, { toSeq: 1 }));
      expect(first).toMatchObject({
        tenant: m.tenant,
        machine: m.machine,
        seq: 1n,
        service: 'vma',
        serviceSeq: 1n,
        simTimeNs: 100_000n,
        cause: { requestId: 'req-1', parentSeq: 0n },
        stateHash: H(1000),
        modelVersion: 1,
      });
      expect(fromEnvelopeEvent(lowerCodec, first.event)).toEqual(g(100));
    });

    it('appends after records of other services the writer had not seen', async () => {
      const { log, machine } = await open();
      const m = machine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      await appendUpper(log, m, a.position, [t(100)]);
      // vma still believes seq 1 is the end.
      const c = await appendLower(log, m, a.position, [g(101)]);
      expect([seqs(c), serviceSeqs(c), c.missed]).toEqual([[3], [2], 1]);
      expect(c.position).toMatchObject({ seq: 3, serviceSeqs: { vma: 2, heap: 1 } });
    });

    it('fences a stale second writer of the same service and writes nothing', async () => {
      const { log, machine } = await open();
      const m = machine();
      await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      const e = await appendLower(log, m, EMPTY_POSITION, [g(500)]).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: 'LogFencedError', service: 'vma', serviceSeq: 1 });
      expect(await log.tip(m)).toMatchObject({ seq: 1 });
    });

    it('answers a repeated append (same position, same events) with the first, writing it once', async () => {
      const { log, machine } = await open();
      const m = machine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100), g(101)]);
      const again = await appendLower(log, m, EMPTY_POSITION, [g(100), g(101)]);
      expect(seqs(again)).toEqual(seqs(a));
      expect((await collect(log.records(m))).length).toBe(1);
    });

    it('refuses a position ahead of the log', async () => {
      const { log, machine } = await open();
      const m = machine();
      await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      const ahead: LogPosition = { seq: 50, streamSeq: 2 ** 40, serviceSeqs: { vma: 1 } };
      await expect(appendLower(log, m, ahead, [g(101)])).rejects.toMatchObject({ name: 'LogPositionError' });
    });

    it('refuses an empty append and events of another service', async () => {
      const { log, machine } = await open();
      const m = machine();
      await expect(log.append({ machine: m, service: 'vma', events: [], cause: { requestId: '', parentSeq: 0 }, modelVersion: 1, expected: EMPTY_POSITION })).rejects.toBeInstanceOf(AppendRequestError);
      await expect(
        log.append({
          machine: m,
          service: 'vma',
          events: [{ event: toEnvelopeEvent(upperCodec, t(1)), stateHash: H(1), simTimeNs: 0n }],
          cause: { requestId: '', parentSeq: 0 },
          modelVersion: 1,
          expected: EMPTY_POSITION,
        }),
      ).rejects.toBeInstanceOf(AppendRequestError);
    });

    it('tails what is there, then each append as it comes, until aborted', async () => {
      const { log, machine } = await open();
      const m = machine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      const b = await appendLower(log, m, a.position, [g(101)]);
      const stop = new AbortController();
      const seen: number[] = [];
      const done = (async () => {
        for await (const e of log.tail(m, { fromSeq: 2, signal: stop.signal })) {
          seen.push(Number(e.seq));
          if (seen.length === 3) stop.abort();
        }
      })();
      await appendUpper(log, m, b.position, [t(100), t(101)]);
      await done;
      expect(seen).toEqual([2, 3, 4]);
    });

    it('tails a machine that has no log yet', async () => {
      const { log, machine } = await open();
      const m = machine();
      const stop = new AbortController();
      const seen: number[] = [];
      const done = (async () => {
        for await (const e of log.tail(m, { signal: stop.signal })) {
          seen.push(Number(e.seq));
          stop.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await appendLower(log, m, EMPTY_POSITION, [g(100)]);
      await done;
      expect(seen).toEqual([1]);
    });

    it('lists its machines', async () => {
      const { log, machine } = await open();
      const m1 = machine();
      const m2 = machine();
      await appendLower(log, m1, EMPTY_POSITION, [g(100)]);
      await appendLower(log, m2, EMPTY_POSITION, [g(100)]);
      const all = await log.machines();
      expect(all).toContainEqual(m1);
      expect(all).toContainEqual(m2);
    });

    it('exports a machine to a .mmlog file that reads and replays the same', async () => {
      const { log, machine } = await open();
      const m = machine();
      const a = await appendLower(log, m, EMPTY_POSITION, [g(100, 3)]);
      await appendLower(log, m, a.position, [g(103, 2)]);
      const dir = mkdtempSync(join(tmpdir(), 'mmsim-export-'));
      try {
        const path = join(dir, 'm.mmlog');
        const r = await exportToFile(log, m, path);
        expect(r).toMatchObject({ records: 2, envelopes: 2, lastSeq: 2 });
        const back = (await collect(readLogFile(path))).flatMap((x) => x.envelopes);
        expect(back).toEqual(await collect(log.read(m)));
        // Hashes written by appendLower are not lower's, so replay only the shape here:
        const report = await replayFile(path, { registry: {} });
        expect(report).toMatchObject({ envelopes: 2, lastSeq: 2, divergence: undefined });
        const withLower = await replayFile(path, { registry: { vma: replayEntry({ aggregate: lower, codec: lowerCodec }) } });
        expect(withLower.divergence).toMatchObject({ seq: 1, service: 'vma', eventType: 'Granted', detail: 'vma state hash after the event differs' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
