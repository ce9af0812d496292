import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@mmsim/bus';
import { FileEventLog, type AppendRequest, type EventLog, type MachineRef } from '@mmsim/eventlog';
import { isRejection, Need, Rejection, StateHasher, type Aggregate } from '@mmsim/kernel';
import { describe, expect, it } from 'vitest';
import { lower, lowerCodec, upper, upperCodec, type UpperCommand } from '../../../test/support/toy-aggregates.js';
import { createAggregateHost } from './aggregate-host.js';
import { busAsk, serveHost } from './bus-rpc.js';
import { hostContract, makeLowerHost, quietLogger } from './host.contract.js';
import type { AskFn } from './types.js';

hostContract('InProcessBus + FileEventLog', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-host-'));
  const reader = await FileEventLog.open(dir, { readOnly: true });
  let log: FileEventLog | undefined;
  let n = 0;
  return {
    reader,
    machine: () => ({ tenant: 'acme', machine: `m${++n}` }),
    async start() {
      log = await FileEventLog.open(dir);
      const bus = new InProcessBus();
      const lower = makeLowerHost(log);
      const upperHost = createAggregateHost({ aggregate: upper, codec: upperCodec, log, ask: busAsk(bus), logger: quietLogger });
      await lower.start();
      await upperHost.start();
      const sub = await serveHost(bus, lower);
      const mine = log;
      return {
        lower,
        upper: upperHost,
        async stop() {
          await sub.stop();
          await upperHost.close();
          await lower.close();
          await bus.close();
          await mine.close();
        },
      };
    },
    // In one process the file log has one writer: a second host of the same service shares it.
    async secondLower() {
      const host = makeLowerHost(log!);
      return { host, stop: () => host.close() };
    },
    async close() {
      await reader.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// ---- the Need protocol and the queue, without a bus

const m: MachineRef = { tenant: 'acme', machine: 'box' };

async function withLog<T>(f: (log: FileEventLog) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-host-'));
  const log = await FileEventLog.open(dir);
  try {
    return await f(log);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Answers every Grant with 1000 + n, like a lower that starts at 1000. */
const fakeAsk: AskFn = async (_s, request) => ({ answer: 1000 + (request as { n: number }).n });

const asking = (decide: Aggregate<UpperCommand, never, unknown>['decide']): Aggregate<UpperCommand, never, unknown> => ({
  service: 'heap',
  initialState: () => ({}),
  decide,
  evolve: (s) => s,
  stateHash: () => '0000000000000000',
});

describe('aggregate host: the Need protocol', () => {
  it('refuses a re-run that asks out of order', () =>
    withLog(async (log) => {
      const agg = asking((c) => {
        throw new Need('vma', { n: 1 }, (c.answers?.length ?? 0) + 1);
      });
      const host = createAggregateHost({ aggregate: agg, codec: upperCodec as never, log, ask: fakeAsk, logger: quietLogger });
      await expect(host.handle(m, { type: 'Take', sizes: [1] })).rejects.toThrow(/asked question 1 but 0 are answered/);
    }));

  it('refuses a decide() that keeps asking', () =>
    withLog(async (log) => {
      const agg = asking((c) => {
        throw new Need('vma', { n: 1 }, c.answers?.length ?? 0);
      });
      const host = createAggregateHost({ aggregate: agg, codec: upperCodec as never, log, ask: fakeAsk, maxRounds: 5, logger: quietLogger });
      await expect(host.handle(m, { type: 'Take', sizes: [1] })).rejects.toMatchObject({ name: 'AggregateProtocolError', message: expect.stringMatching(/more than 5 questions/) });
    }));

  it('refuses a Need of a service above (calls go down only)', () =>
    withLog(async (log) => {
      const host = createAggregateHost({
        aggregate: {
          ...lower,
          decide: () => {
            throw new Need('heap', {}, 0);
          },
        },
        codec: lowerCodec,
        log,
        ask: fakeAsk,
        logger: quietLogger,
      });
      await expect(host.handle(m, { type: 'Grant', n: 1 })).rejects.toThrow(/vma may only call frames, oom/);
    }));

  it('re-runs decide() with the answers in order', () =>
    withLog(async (log) => {
      const asked: unknown[] = [];
      const ask: AskFn = async (service, request, ctx) => {
        asked.push([service, request, ctx.requestId]);
        return { answer: 1000 + asked.length };
      };
      const host = createAggregateHost({ aggregate: upper, codec: upperCodec, log, ask, logger: quietLogger });
      const r = await host.handle(m, { type: 'Take', sizes: [5, 6, 7] }, { requestId: 'q' });
      expect(asked).toEqual([
        ['vma', { type: 'Grant', n: 5 }, 'q.vma.0'],
        ['vma', { type: 'Grant', n: 6 }, 'q.vma.1'],
        ['vma', { type: 'Grant', n: 7 }, 'q.vma.2'],
      ]);
      expect(r.events.map((e) => e.first)).toEqual([1001, 1002, 1003]);
    }));
});

describe('aggregate host: state and the queue', () => {
  it('answers queries from the committed state while a command waits for its answer', () =>
    withLog(async (log) => {
      let release: (v: { answer: unknown }) => void = () => undefined;
      const gate = new Promise<{ answer: unknown }>((r) => (release = r));
      const host = createAggregateHost({ aggregate: upper, codec: upperCodec, log, ask: () => gate, logger: quietLogger });
      await host.handle(m, { type: 'Take', sizes: [] }).catch(() => undefined);
      const pending = host.handle(m, { type: 'Take', sizes: [2] });
      const queued = host.handle(m, { type: 'Take', sizes: [] }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 20));
      expect(host.query(m, (s) => s.total)).toBe(0); // not blocked behind the pending command
      release({ answer: 500 });
      expect((await pending).events).toEqual([{ type: 'Took', first: 500, n: 2 }]);
      const q = await queued;
      expect(isRejection(q) && q.code).toBe('heap.NOTHING_TO_TAKE');
      expect(host.query(m, (s) => s.total)).toBe(2);
    }));

  it('rebuilds a machine from the log after a failed append (its in-place state may be half-applied)', () =>
    withLog(async (log) => {
      // A counter that evolves in place, as frames and heap do.
      type Box = { value: number };
      const inPlace: Aggregate<{ type: 'Add'; n: number }, { type: 'Granted'; first: number; n: number }, Box> = {
        service: 'vma',
        initialState: () => ({ value: 0 }),
        decide: (c, s) => {
          if (c.n < 0) throw new Rejection('vma.NEGATIVE', 'invalid', 'no');
          return [{ type: 'Granted', first: s.value, n: c.n }];
        },
        evolve: (s, e) => {
          s.value = e.first + e.n;
          return s;
        },
        stateHash: (s) => new StateHasher().int(s.value).digest(),
      };
      let failNext = false;
      const flaky: EventLog = Object.create(log, {
        append: {
          value: (req: AppendRequest) => {
            if (failNext) {
              failNext = false;
              return Promise.reject(Object.assign(new Error('disk full'), { name: 'LogUnavailableError' }));
            }
            return log.append(req);
          },
        },
      });
      const host = createAggregateHost({ aggregate: inPlace, codec: lowerCodec, log: flaky, logger: quietLogger });
      await host.handle(m, { type: 'Add', n: 5 });
      failNext = true;
      await expect(host.handle(m, { type: 'Add', n: 7 })).rejects.toThrow(/disk full/);
      expect(host.query(m, (s) => s.value)).toBe(12); // evolved in place, not in the log
      const r = await host.handle(m, { type: 'Add', n: 1 });
      expect(r.events).toEqual([{ type: 'Granted', first: 5, n: 1 }]); // rebuilt to 5 first
      expect(host.query(m, (s) => s.value)).toBe(6);
      expect(host.position(m)).toMatchObject({ seq: 2 });
    }));

  it('refuses to start when the log does not rebuild to the recorded state hash', () =>
    withLog(async (log) => {
      const a = makeLowerHost(log);
      await a.handle(m, { type: 'Grant', n: 3 });
      const changedModel = createAggregateHost({
        aggregate: { ...lower, stateHash: () => 'ffffffffffffffff' },
        codec: lowerCodec,
        log,
        logger: quietLogger,
      });
      await expect(changedModel.start()).rejects.toMatchObject({ name: 'StateHashMismatchError', seq: 1 });
    }));
});

describe('aggregate host: observe() (positions learned outside handle)', () => {
  it('an observed position lets the next append go after the records it names, without a conflict', () =>
    withLog(async (log) => {
      const vma = makeLowerHost(log);
      const heap = createAggregateHost({ aggregate: upper, codec: upperCodec, log, ask: fakeAsk, logger: quietLogger });
      await heap.handle(m, { type: 'Take', sizes: [1] }); // seq 1, which vma has not seen
      expect((await vma.handle(m, { type: 'Grant', n: 1 })).missed).toBe(1);
      await heap.handle(m, { type: 'Take', sizes: [2] }); // seq 3 (after missing vma's seq 2)
      await vma.observe(m, heap.position(m));
      const r = await vma.handle(m, { type: 'Grant', n: 1 });
      expect(r.missed).toBe(0);
      expect(r.seqs).toEqual([4]);
    }));

  it('a position that counts records of the host\'s own service it never wrote fences it', () =>
    withLog(async (log) => {
      const a = makeLowerHost(log);
      const b = makeLowerHost(log); // another vma writer of the same machine
      await a.handle(m, { type: 'Grant', n: 1 });
      await b.rebuild(m);
      await b.handle(m, { type: 'Grant', n: 1 });
      await expect(a.observe(m, b.position(m))).rejects.toMatchObject({ name: 'LogFencedError' });
      await expect(a.handle(m, { type: 'Grant', n: 1 })).rejects.toMatchObject({ name: 'LogFencedError' });
    }));
});
