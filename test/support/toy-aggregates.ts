// Two toy aggregates for infrastructure tests (eventlog, host), small enough to compute by
// hand: `lower` plays vma and hands out numbers like a bump allocator; `upper` plays heap and
// Needs `lower` once per size it is asked to take. Their events ride in the envelope as the
// placeholder first events of vma and heap (MachineCreated / HeapInitialized), carrying the
// toy's two numbers in MachineConfig.ram_bytes and swap_bytes: the schema has no test event,
// and these codecs exist only here.
import { Need, Rejection, StateHasher, type Aggregate } from '@mmsim/kernel';
import { MachineConfig, MachineCreated } from '@mmsim/proto';
import { defineEventCodec, EMPTY_POSITION, toEnvelopeEvent, type EventLog, type LogPosition, type MachineRef } from '@mmsim/eventlog';

// ---- lower ('vma'): Grant n -> Granted { first, n }; next = first + n

export type LowerCommand = { readonly type: 'Grant'; readonly n: number };
export type LowerEvent = { readonly type: 'Granted'; readonly first: number; readonly n: number };
export interface LowerState {
  readonly next: number;
  readonly grants: number;
}

export const LOWER_START = 100;

export const lower: Aggregate<LowerCommand, LowerEvent, LowerState> = {
  service: 'vma',
  initialState: () => ({ next: LOWER_START, grants: 0 }),
  decide(c, s) {
    if (!Number.isInteger(c.n) || c.n < 1 || c.n > 1000) throw new Rejection('vma.BAD_GRANT', 'invalid', `cannot grant ${c.n}`);
    return [{ type: 'Granted', first: s.next, n: c.n }];
  },
  evolve: (s, e) => ({ next: e.first + e.n, grants: s.grants + 1 }),
  stateHash: (s) => new StateHasher().int(s.next).int(s.grants).digest(),
  answer: (_c, events) => events[0].first,
};

export const lowerCodec = defineEventCodec<'vma', LowerEvent>({
  service: 'vma',
  toProto: (e) => ({
    event: { $case: 'machineCreated', value: MachineCreated.fromPartial({ config: MachineConfig.fromPartial({ ramBytes: BigInt(e.first), swapBytes: BigInt(e.n) }), modelVersion: 0 }) },
  }),
  fromProto: (m) => {
    if (m.event?.$case !== 'machineCreated' || !m.event.value.config) throw new Error('not a toy lower event');
    return { type: 'Granted', first: Number(m.event.value.config.ramBytes), n: Number(m.event.value.config.swapBytes) };
  },
  eventType: (e) => e.type,
});

/** Replay's re-derivation of a Granted: a grant starts where the last one ended. */
export const verifyLower = (before: LowerState, e: LowerEvent) =>
  e.first === before.next ? undefined : { expected: `first ${e.first}`, got: `first ${before.next}`, detail: 'Granted does not start at the next free number' };

// ---- upper ('heap'): Take sizes[] -> Need(vma, Grant sizes[i], i) for each, then Took { first, n } per size

export type UpperCommand = { readonly type: 'Take'; readonly sizes: readonly number[]; readonly answers?: readonly unknown[] };
export type UpperEvent = { readonly type: 'Took'; readonly first: number; readonly n: number };
export interface UpperState {
  readonly took: readonly number[];
  readonly total: number;
}

export const upper: Aggregate<UpperCommand, UpperEvent, UpperState> = {
  service: 'heap',
  initialState: () => ({ took: [], total: 0 }),
  decide(c) {
    if (c.sizes.length === 0) throw new Rejection('heap.NOTHING_TO_TAKE', 'invalid', 'take at least one size');
    const answers = c.answers ?? [];
    for (let i = 0; i < c.sizes.length; i++) {
      if (i >= answers.length) throw new Need('vma', { type: 'Grant', n: c.sizes[i] } satisfies LowerCommand, i);
    }
    return c.sizes.map((n, i) => ({ type: 'Took', first: answers[i] as number, n }));
  },
  evolve: (s, e) => ({ took: [...s.took, e.first], total: s.total + e.n }),
  stateHash: (s) => {
    const h = new StateHasher().int(s.total).int(s.took.length);
    for (const t of s.took) h.int(t);
    return h.digest();
  },
};

export const upperCodec = defineEventCodec<'heap', UpperEvent>({
  service: 'heap',
  toProto: (e) => ({
    event: { $case: 'heapInitialized', value: { config: MachineConfig.fromPartial({ ramBytes: BigInt(e.first), swapBytes: BigInt(e.n) }), modelVersion: 0 } },
  }),
  fromProto: (m) => {
    if (m.event?.$case !== 'heapInitialized' || !m.event.value.config) throw new Error('not a toy upper event');
    return { type: 'Took', first: Number(m.event.value.config.ramBytes), n: Number(m.event.value.config.swapBytes) };
  },
  eventType: (e) => e.type,
});

/** Runs lower's Grants through decide/evolve/stateHash and appends each decision, as a host would. */
export async function writeLowerLog(log: EventLog, m: MachineRef, grants: readonly number[]): Promise<{ state: LowerState; position: LogPosition }> {
  let state = lower.initialState();
  let position = EMPTY_POSITION;
  for (const [i, n] of grants.entries()) {
    const events = lower.decide({ type: 'Grant', n }, state).map((e) => {
      state = lower.evolve(state, e);
      return { event: toEnvelopeEvent(lowerCodec, e), stateHash: lower.stateHash(state), simTimeNs: BigInt(state.next) };
    });
    position = (await log.append({ machine: m, service: 'vma', events, cause: { requestId: `grant-${i}`, parentSeq: 0 }, modelVersion: 1, expected: position })).position;
  }
  return { state, position };
}
