// A counter with a recorded decision, for replay tests: Add n -> Added { n, total } where
// total is what decide() computed (value + n). verify() re-derives total from the state before
// the event; the state hash covers the value and the number of adds. Its events ride in the
// envelope as frames' MachineBooted (ram_bytes = n, swap_bytes = total): the schema has no
// test event.
import { StateHasher, type Aggregate } from '@mmsim/kernel';
import { MachineConfig } from '@mmsim/proto';
import { defineEventCodec, toEnvelopeEvent } from '../codecs/codec.js';
import { EMPTY_POSITION, type EventLog, type LogPosition, type MachineRef } from '../event-log.js';
import { replayEntry } from './registry.js';

export type CounterCommand = { readonly type: 'Add'; readonly n: number };
export type CounterEvent = { readonly type: 'Added'; readonly n: number; readonly total: number };
export interface CounterState {
  readonly value: number;
  readonly adds: number;
}

export const counter: Aggregate<CounterCommand, CounterEvent, CounterState> = {
  service: 'frames',
  initialState: () => ({ value: 0, adds: 0 }),
  decide: (c, s) => [{ type: 'Added', n: c.n, total: s.value + c.n }],
  evolve: (s, e) => ({ value: e.total, adds: s.adds + 1 }),
  stateHash: (s) => new StateHasher().int(s.value).int(s.adds).digest(),
};

export const counterCodec = defineEventCodec<'frames', CounterEvent>({
  service: 'frames',
  toProto: (e) => ({ event: { $case: 'machineBooted', value: { config: MachineConfig.fromPartial({ ramBytes: BigInt(e.n), swapBytes: BigInt(e.total) }), modelVersion: 0 } } }),
  fromProto: (m) => {
    if (m.event?.$case !== 'machineBooted' || !m.event.value.config) throw new Error('not a counter event');
    return { type: 'Added', n: Number(m.event.value.config.ramBytes), total: Number(m.event.value.config.swapBytes) };
  },
  eventType: (e) => e.type,
});

export const counterRegistry = {
  frames: replayEntry({
    aggregate: counter,
    codec: counterCodec,
    verify: (before: CounterState, e: CounterEvent) =>
      e.total === before.value + e.n ? undefined : { expected: `total ${e.total}`, got: `total ${before.value + e.n}`, detail: 'Added.total is not value + n' },
  }),
};

/** Runs `adds` through decide/evolve and appends each decision, as a host would. Returns the final state. */
export async function writeCounterLog(log: EventLog, m: MachineRef, adds: readonly number[]): Promise<{ state: CounterState; position: LogPosition; hashes: string[] }> {
  let state = counter.initialState();
  let position = EMPTY_POSITION;
  const hashes: string[] = [];
  for (const [i, n] of adds.entries()) {
    const events = counter.decide({ type: 'Add', n }, state);
    const appended = events.map((e) => {
      state = counter.evolve(state, e);
      const stateHash = counter.stateHash(state);
      hashes.push(stateHash);
      return { event: toEnvelopeEvent(counterCodec, e), stateHash, simTimeNs: BigInt(i) };
    });
    position = (await log.append({ machine: m, service: 'frames', events: appended, cause: { requestId: `add-${i}`, parentSeq: 0 }, modelVersion: 1, expected: position })).position;
  }
  return { state, position, hashes };
}
