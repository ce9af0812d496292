// How the host must behave in both deployments, as a vitest suite: a toy two-level pair (upper
// Needs lower, test/support/toy-aggregates.ts) run as services over a bus and a log.
// host.spec.ts runs it over InProcessBus + FileEventLog (all-in-one), host.nats.spec.ts over
// NatsBus + JetStreamEventLog (one log connection and bus per service, as separate processes).
import { isRejection } from '@mmsim/kernel';
import type { EventLog, MachineRef } from '@mmsim/eventlog';
import { afterEach, describe, expect, it } from 'vitest';
import { lower, lowerCodec, upper, type LowerCommand, type LowerEvent, type LowerState, type UpperCommand, type UpperEvent, type UpperState } from '../../../test/support/toy-aggregates.js';
import { createAggregateHost, type AggregateHost } from './aggregate-host.js';
import type { HostLogger } from './types.js';

export type LowerHost = AggregateHost<LowerCommand, LowerEvent, LowerState>;
export type UpperHost = AggregateHost<UpperCommand, UpperEvent, UpperState>;

/** One deployment of the two services. */
export interface Services {
  readonly lower: LowerHost;
  readonly upper: UpperHost;
  stop(): Promise<void>;
}

export interface World {
  /** Starts both services (and rebuilds them from the log). */
  start(): Promise<Services>;
  /** A lone lower service with its own view of the log, not serving the bus: a second writer. */
  secondLower(): Promise<{ host: LowerHost; stop(): Promise<void> }>;
  /** Reads the log, for checks. */
  readonly reader: EventLog;
  machine(): MachineRef;
  close(): Promise<void>;
}

export const quietLogger: HostLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** lower keeps the clock here (as vma does): 1 µs per number handed out. */
export const lowerClock = (s: LowerState) => BigInt(s.next) * 1000n;

export function makeLowerHost(log: EventLog): LowerHost {
  return createAggregateHost({ aggregate: lower, codec: lowerCodec, log, simTimeNs: lowerClock, logger: quietLogger });
}

const take = (...sizes: number[]): UpperCommand => ({ type: 'Take', sizes });

async function envelopesOf(log: EventLog, m: MachineRef) {
  const out = [];
  for await (const e of log.read(m)) out.push({ seq: Number(e.seq), service: e.service, simTimeNs: e.simTimeNs, requestId: e.cause?.requestId });
  return out;
}

export function hostContract(name: string, makeWorld: () => Promise<World>): void {
  describe(`${name}: the aggregate host`, () => {
    let world: World | undefined;
    let running: Services[] = [];
    const open = async () => {
      world = await makeWorld();
      return world;
    };
    const start = async () => {
      const s = await world!.start();
      running.push(s);
      return s;
    };
    const stop = async (s: Services) => {
      running = running.filter((x) => x !== s);
      await s.stop();
    };
    afterEach(async () => {
      for (const s of running) await s.stop();
      running = [];
      await world?.close();
      world = undefined;
    });

    it('answers Needs from the service below, then appends the decision as one unit, without conflicts', async () => {
      const w = await open();
      const { upper: up, lower: low } = await start();
      const m = w.machine();
      const r = await up.handle(m, take(3, 5), { requestId: 'take-1', simTimeNs: 50n });
      expect(r.events).toEqual([
        { type: 'Took', first: 100, n: 3 },
        { type: 'Took', first: 103, n: 5 },
      ]);
      expect(r.seqs).toEqual([3, 4]);
      expect(r.missed).toBe(0);
      expect(low.query(m, (s) => s)).toEqual({ next: 108, grants: 2 });
      expect(up.query(m, (s) => s)).toEqual({ took: [100, 103], total: 8 });
      // lower's clock is 1 µs per number: 103 after the first grant, 108 after the second.
      expect(await envelopesOf(w.reader, m)).toEqual([
        { seq: 1, service: 'vma', simTimeNs: 103_000n, requestId: 'take-1.vma.0' },
        { seq: 2, service: 'vma', simTimeNs: 108_000n, requestId: 'take-1.vma.1' },
        { seq: 3, service: 'heap', simTimeNs: 108_000n, requestId: 'take-1' },
        { seq: 4, service: 'heap', simTimeNs: 108_000n, requestId: 'take-1' },
      ]);
      const records = [];
      for await (const rec of w.reader.records(m)) records.push(rec.envelopes.length);
      expect(records).toEqual([1, 1, 2]);
      // The positions passed along mean nobody had to go after records it had not seen.
      const again = await up.handle(m, take(1), { requestId: 'take-2' });
      expect(again.missed).toBe(0);
      expect(up.position(m)).toMatchObject({ seq: 6, serviceSeqs: { vma: 3, heap: 3 } });
    });

    it('lets a Rejection through unchanged, from its own decide() or from below, and writes nothing', async () => {
      const w = await open();
      const { upper: up } = await start();
      const m = w.machine();
      await up.handle(m, take(1));
      const own = await up.handle(m, take()).catch((e: unknown) => e);
      expect(isRejection(own) && own.code).toBe('heap.NOTHING_TO_TAKE');
      const below = await up.handle(m, take(2, 5000)).catch((e: unknown) => e);
      expect(isRejection(below)).toBe(true);
      expect(below).toMatchObject({ code: 'vma.BAD_GRANT', kind: 'invalid', message: 'cannot grant 5000' });
      // lower granted 2 before refusing 5000: that grant is real; upper wrote nothing.
      expect((await envelopesOf(w.reader, m)).map((e) => e.service)).toEqual(['vma', 'heap', 'vma']);
      expect(up.query(m, (s) => s.total)).toBe(1);
    });

    it('runs one command at a time per machine, in arrival order', async () => {
      const w = await open();
      const { upper: up } = await start();
      const m = w.machine();
      const other = w.machine();
      const results = await Promise.all([up.handle(m, take(1)), up.handle(other, take(7)), up.handle(m, take(2)), up.handle(m, take(3))]);
      expect(results.map((r) => r.events.map((e) => e.first))).toEqual([[100], [100], [101], [103]]);
      expect(up.query(m, (s) => s.took)).toEqual([100, 101, 103]);
    });

    it('gets its state back after a restart, and carries on from there', async () => {
      const w = await open();
      const first = await start();
      const m = w.machine();
      await first.upper.handle(m, take(3, 5));
      await first.lower.handle(m, { type: 'Grant', n: 10 });
      const before = { lower: first.lower.query(m, (s) => s), upper: first.upper.query(m, (s) => s), position: first.lower.position(m) };
      await stop(first);
      const second = await start();
      expect(second.lower.query(m, (s) => s)).toEqual(before.lower);
      expect(second.upper.query(m, (s) => s)).toEqual(before.upper);
      // Rebuilt from the whole log, both know every record (lower wrote the last one).
      expect(second.lower.position(m)).toEqual(before.position);
      expect(second.upper.position(m)).toEqual(before.position);
      const r = await second.upper.handle(m, take(2));
      expect(r.events).toEqual([{ type: 'Took', first: 118, n: 2 }]);
      expect(r.seqs).toEqual([7]); // after lower's Granted 118 at seq 6
    });

    it('answers a retried request from its first run, also after a restart', async () => {
      const w = await open();
      const first = await start();
      const m = w.machine();
      const a = await first.upper.handle(m, take(4), { requestId: 'once' });
      const b = await first.upper.handle(m, take(4), { requestId: 'once' });
      expect(b).toMatchObject({ duplicate: true, events: a.events, seqs: a.seqs });
      const g1 = await first.lower.handle(m, { type: 'Grant', n: 2 }, { requestId: 'grant-x' });
      const g2 = await first.lower.handle(m, { type: 'Grant', n: 2 }, { requestId: 'grant-x' });
      expect([g1.answer, g2.answer, g2.duplicate]).toEqual([104, 104, true]);
      expect((await envelopesOf(w.reader, m)).length).toBe(3);
      await stop(first);

      const second = await start();
      // The last grant is still the state's last change: its answer can be given again.
      expect(await second.lower.handle(m, { type: 'Grant', n: 2 }, { requestId: 'grant-x' })).toMatchObject({ duplicate: true, answer: 104, seqs: [3] });
      // upper has no answer(): its events are the answer.
      expect(await second.upper.handle(m, take(4), { requestId: 'once' })).toMatchObject({ duplicate: true, events: a.events });
      // An older one was applied, but the state moved on since: refused rather than answered wrongly.
      await expect(second.lower.handle(m, { type: 'Grant', n: 4 }, { requestId: 'once.vma.0' })).rejects.toMatchObject({ name: 'DuplicateRequestError' });
      expect((await envelopesOf(w.reader, m)).length).toBe(3);
    });

    it('fences a stale second writer of the same service, which then stops serving the machine', async () => {
      const w = await open();
      const { upper: up } = await start();
      const m = w.machine();
      await up.handle(m, take(1));
      const second = await w.secondLower();
      try {
        await second.host.start();
        expect(second.host.query(m, (s) => s.next)).toBe(101);
        await up.handle(m, take(2)); // the serving lower appends Granted 101
        const e = await second.host.handle(m, { type: 'Grant', n: 9 }).catch((x: unknown) => x);
        expect(e).toMatchObject({ name: 'LogFencedError', service: 'vma' });
        await expect(second.host.handle(m, { type: 'Grant', n: 9 })).rejects.toMatchObject({ name: 'LogFencedError' });
        expect((await envelopesOf(w.reader, m)).map((x) => x.service)).toEqual(['vma', 'heap', 'vma', 'heap']);
        // Told to reload, it catches up and can write again.
        await second.host.rebuild(m);
        expect((await second.host.handle(m, { type: 'Grant', n: 9 })).answer).toBe(103);
      } finally {
        await second.stop();
      }
    });
  });
}
