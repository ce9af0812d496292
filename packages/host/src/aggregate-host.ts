// The aggregate host: what every service (and all-in-one) runs around its aggregate
// (docs/architecture.md "decide, Need, evolve"). Per machine it keeps the state and the log
// position, handles one command at a time, answers decide()'s Needs by asking the service below,
// appends a decision's events as one unit with a state hash after each, and commits the state
// only once the log has them.
import { CALLS_DOWN_TO, isNeed, MODEL_VERSION, type Aggregate, type ServiceName } from '@mmsim/kernel';
import {
  advanceByRecord,
  EMPTY_POSITION,
  fromEnvelopeEvent,
  LogFencedError,
  machineKey,
  mergePosition,
  toEnvelopeEvent,
  type AnyEventCodec,
  type AppendEvent,
  type EventLog,
  type LogPosition,
  type MachineRef,
} from '@mmsim/eventlog';
import { AggregateProtocolError, DuplicateRequestError, StateHashMismatchError } from './errors.js';
import { SerialQueue } from './serial-queue.js';
import type { AskFn, CommandContext, HandleResult, HostLogger, RebuildProgress, RebuildSummary } from './types.js';

export interface AggregateHostOptions<C, E, S> {
  readonly aggregate: Aggregate<C, E, S>;
  readonly codec: AnyEventCodec<E>;
  readonly log: EventLog;
  /** Default: aggregate.service. */
  readonly service?: ServiceName;
  /** Answers Needs (over the bus: busAsk(bus)). Required when decide() can throw Need. */
  readonly ask?: AskFn;
  /** The command re-run with its answers (default: `{ ...command, answers }`). */
  readonly withAnswers?: (command: C, answers: readonly unknown[]) => C;
  /** Need rounds allowed for one command (default 1000). */
  readonly maxRounds?: number;
  /** Simulated time after an event, for aggregates that keep the clock (vma). Others use the time they are told. */
  readonly simTimeNs?: (state: S) => bigint | number;
  /** Written in each envelope (default: the kernel's MODEL_VERSION). */
  readonly modelVersion?: number;
  /** Request ids remembered per machine for de-duplication (default 1024). */
  readonly dedupeWindow?: number;
  /**
   * Checks while rebuilding from the log: 'last' (default) compares the state hash after each
   * machine's last event of this service; 'all' after every event; 'none' skips it.
   */
  readonly verifyOnRebuild?: 'last' | 'all' | 'none';
  /**
   * When another writer of this service is detected on a machine (LogFencedError): 'refuse'
   * (default) keeps failing that machine's commands, as a stale writer must stop; 'rebuild'
   * reloads the machine from the log and goes on.
   */
  readonly onFenced?: 'refuse' | 'rebuild';
  readonly logger?: HostLogger;
}

export interface AggregateHost<C, E, S> {
  readonly service: ServiceName;
  /** Rebuilds every machine of the log (a restarted service gets its state back). */
  start(opts?: { onProgress?: (p: RebuildProgress) => void }): Promise<RebuildSummary>;
  /** Runs a command on a machine after the ones queued before it. A Rejection propagates unchanged and writes nothing. */
  handle(machine: MachineRef, command: C, ctx?: CommandContext): Promise<HandleResult<E>>;
  /**
   * Reads the committed state without entering the queue (for aggregates that evolve in place,
   * a command being appended may already show). A machine with no events reads initialState().
   */
  query<R>(machine: MachineRef, read: (state: S) => R): R;
  /** The host's log position for a machine. */
  position(machine: MachineRef): LogPosition;
  /** Whether a request id has been applied to a machine (and would be answered from its first run). */
  applied(machine: MachineRef, requestId: string): boolean;
  /**
   * Merges a position (and simulated time) learned outside handle(): the reply of a service
   * asked directly (vma's gRPC edge telling oom, frames), or what a query answered. The next
   * append then goes after those records without a conflict. In the machine's queue; a
   * position that reveals a record of this host's own service it never wrote fences it, as in
   * handle().
   */
  observe(machine: MachineRef, position: LogPosition | undefined, simTimeNs?: bigint): Promise<void>;
  machines(): MachineRef[];
  /** Reloads a machine from the log (after a fence, or on demand), in its queue. */
  rebuild(machine: MachineRef): Promise<void>;
  /** Waits for queued commands, then refuses new ones. The log is the caller's to close. */
  close(): Promise<void>;
}

interface Remembered<E> {
  readonly events: readonly E[];
  readonly seqs: readonly number[];
  /** Absent when rebuilt from the log: computed again if the state is still the one after it. */
  readonly answer?: { value: unknown };
}

interface Slot<S, E> {
  readonly ref: MachineRef;
  state: S;
  position: LogPosition;
  simTimeNs: bigint;
  /** The seq of this service's last event on the machine. */
  lastOwnSeq: number;
  readonly queue: SerialQueue;
  /** The state may not match the log (a failed append after an in-place evolve): rebuild first. */
  stale: boolean;
  fenced: Error | undefined;
  readonly recent: Map<string, Remembered<E>>;
}

const consoleLogger: HostLogger = {
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m, e) => console.error(m, e),
};

const bigMax = (a: bigint, b: bigint | undefined): bigint => (b !== undefined && b > a ? b : a);

/** `<requestId>.<service>.<index>`: the id of the index-th question a request asks. */
export const subRequestId = (requestId: string, service: string, index: number): string =>
  requestId === '' ? '' : `${requestId}.${service}.${index}`;

export class HostClosedError extends Error {
  override readonly name = 'HostClosedError';
}

export function createAggregateHost<C, E, S>(opts: AggregateHostOptions<C, E, S>): AggregateHost<C, E, S> {
  return new AggregateHostImpl(opts);
}

class AggregateHostImpl<C, E, S> implements AggregateHost<C, E, S> {
  readonly service: ServiceName;
  private readonly slots = new Map<string, Slot<S, E>>();
  private readonly logger: HostLogger;
  private closed = false;

  constructor(private readonly o: AggregateHostOptions<C, E, S>) {
    this.service = o.service ?? o.aggregate.service;
    this.logger = o.logger ?? consoleLogger;
    if (o.codec.service !== this.service) throw new Error(`host ${this.service}: codec is ${o.codec.service}'s`);
  }

  private slot(ref: MachineRef): Slot<S, E> {
    const key = machineKey(ref);
    let s = this.slots.get(key);
    if (!s) {
      s = {
        ref: { tenant: ref.tenant, machine: ref.machine },
        state: this.o.aggregate.initialState(),
        position: EMPTY_POSITION,
        simTimeNs: 0n,
        lastOwnSeq: 0,
        queue: new SerialQueue(),
        stale: false,
        fenced: undefined,
        recent: new Map(),
      };
      this.slots.set(key, s);
    }
    return s;
  }

  private remember(slot: Slot<S, E>, requestId: string, entry: Remembered<E>): void {
    if (requestId === '') return;
    slot.recent.delete(requestId);
    slot.recent.set(requestId, entry);
    const max = this.o.dedupeWindow ?? 1024;
    while (slot.recent.size > max) slot.recent.delete(slot.recent.keys().next().value as string);
  }

  async start(opts: { onProgress?: (p: RebuildProgress) => void } = {}): Promise<RebuildSummary> {
    const t0 = performance.now();
    const machines = await this.o.log.machines();
    let envelopes = 0, events = 0;
    this.logger.info(`${this.service}: rebuilding ${machines.length} machine(s) from the ${this.o.log.kind} log`);
    for (const [i, ref] of machines.entries()) {
      const slot = this.slot(ref);
      const r = await slot.queue.run(() => this.load(slot));
      envelopes += r.envelopes;
      events += r.events;
      opts.onProgress?.({ machine: ref, machinesDone: i + 1, machinesTotal: machines.length, envelopes, events });
    }
    const ms = Math.round(performance.now() - t0);
    this.logger.info(`${this.service}: rebuilt ${machines.length} machine(s), ${events} event(s) of ${envelopes} in ${ms} ms`);
    return { machines: machines.length, envelopes, events, ms };
  }

  /** Replaces a slot's state, position and recent requests by what the log says. */
  private async load(slot: Slot<S, E>): Promise<{ envelopes: number; events: number }> {
    const { aggregate, codec } = this.o;
    const verify = this.o.verifyOnRebuild ?? 'last';
    const name = machineKey(slot.ref);
    let state = aggregate.initialState();
    let position = EMPTY_POSITION;
    let simTimeNs = 0n;
    let lastOwnSeq = 0;
    let lastHash: string | undefined;
    let envelopes = 0, events = 0;
    const recent = new Map<string, Remembered<E>>();
    for await (const record of this.o.log.records(slot.ref)) {
      position = advanceByRecord(position, record, name);
      envelopes += record.envelopes.length;
      const mine: E[] = [];
      const seqs: number[] = [];
      for (const env of record.envelopes) {
        simTimeNs = bigMax(simTimeNs, env.simTimeNs);
        if (env.service !== this.service) continue;
        const event = fromEnvelopeEvent(codec, env.event);
        state = aggregate.evolve(state, event);
        const seq = Number(env.seq);
        if (verify === 'all') {
          const got = aggregate.stateHash(state);
          if (got !== env.stateHash) throw new StateHashMismatchError(this.service, name, seq, env.stateHash, got);
        }
        lastHash = env.stateHash;
        lastOwnSeq = seq;
        mine.push(event);
        seqs.push(seq);
        events++;
      }
      const rid = record.envelopes[0].cause?.requestId ?? '';
      if (mine.length > 0 && rid !== '') {
        recent.delete(rid);
        recent.set(rid, { events: mine, seqs });
      }
    }
    if (verify === 'last' && lastHash !== undefined) {
      const got = aggregate.stateHash(state);
      if (got !== lastHash) throw new StateHashMismatchError(this.service, name, lastOwnSeq, lastHash, got);
    }
    slot.state = state;
    slot.position = position;
    slot.simTimeNs = simTimeNs;
    slot.lastOwnSeq = lastOwnSeq;
    slot.stale = false;
    slot.fenced = undefined;
    slot.recent.clear();
    for (const [rid, r] of recent) this.remember(slot, rid, r);
    return { envelopes, events };
  }

  handle(machine: MachineRef, command: C, ctx: CommandContext = { requestId: '' }): Promise<HandleResult<E>> {
    if (this.closed) return Promise.reject(new HostClosedError(`${this.service}: the host is closed`));
    const slot = this.slot(machine);
    return slot.queue.run(() => this.run(slot, command, ctx));
  }

  private async run(slot: Slot<S, E>, command: C, ctx: CommandContext): Promise<HandleResult<E>> {
    const { aggregate, codec } = this.o;
    if (slot.fenced) throw slot.fenced;
    if (slot.stale) await this.reload(slot);

    const requestId = ctx.requestId ?? '';
    const seen = requestId === '' ? undefined : slot.recent.get(requestId);
    if (seen) return this.again(slot, requestId, seen, command);

    let position = this.merge(slot, slot.position, ctx.position);
    let simTimeNs = bigMax(slot.simTimeNs, ctx.simTimeNs);
    let cmd = command;
    const answers: unknown[] = [...(((command as { answers?: readonly unknown[] }).answers) ?? [])];
    const maxRounds = this.o.maxRounds ?? 1000;
    let events: E[];
    for (let round = 0; ; round++) {
      try {
        events = aggregate.decide(cmd, slot.state);
        break;
      } catch (e) {
        if (!isNeed(e)) throw e; // a Rejection (or a bug): nothing was written
        this.checkNeed(e.service, e.index, answers.length, round, maxRounds);
        if (!this.o.ask) throw new AggregateProtocolError(`${this.service}: decide() needs ${e.service} but the host has no ask()`);
        const reply = await this.o.ask(e.service, e.request, {
          machine: slot.ref,
          requestId: subRequestId(requestId, e.service, e.index),
          parentSeq: ctx.parentSeq ?? 0,
          simTimeNs,
          position,
        });
        position = this.merge(slot, position, reply.position);
        simTimeNs = bigMax(simTimeNs, reply.simTimeNs);
        answers.push(reply.answer);
        cmd = this.o.withAnswers ? this.o.withAnswers(command, [...answers]) : ({ ...command, answers: [...answers] } as C);
      }
    }

    if (events.length === 0) {
      slot.position = position;
      slot.simTimeNs = simTimeNs;
      const answer = aggregate.answer ? aggregate.answer(cmd, events, slot.state) : events;
      this.remember(slot, requestId, { events, seqs: [], answer: { value: answer } });
      return { events, answer, seqs: [], position, simTimeNs, missed: 0, duplicate: false };
    }

    // Evolve (possibly in place) and hash after each event; the slot is stale until the append lands.
    slot.stale = true;
    let next = slot.state;
    const appendEvents: AppendEvent[] = events.map((event) => {
      next = aggregate.evolve(next, event);
      if (this.o.simTimeNs) simTimeNs = bigMax(simTimeNs, BigInt(this.o.simTimeNs(next)));
      return { event: toEnvelopeEvent(codec, event), stateHash: aggregate.stateHash(next), simTimeNs };
    });
    let result;
    try {
      result = await this.o.log.append({
        machine: slot.ref,
        service: this.service,
        events: appendEvents,
        cause: { requestId, parentSeq: ctx.parentSeq ?? 0 },
        modelVersion: this.o.modelVersion ?? MODEL_VERSION,
        expected: position,
      });
    } catch (e) {
      this.fence(slot, e);
      throw e;
    }
    slot.state = next;
    slot.position = result.position;
    slot.simTimeNs = simTimeNs;
    slot.stale = false;
    const seqs = result.envelopes.map((env) => Number(env.seq));
    slot.lastOwnSeq = seqs[seqs.length - 1];
    // Remembered before answer() runs: if it throws, a retry still finds the events written.
    this.remember(slot, requestId, { events, seqs });
    const answer = aggregate.answer ? aggregate.answer(cmd, events, next) : events;
    this.remember(slot, requestId, { events, seqs, answer: { value: answer } });
    return { events, answer, seqs, position: result.position, simTimeNs, missed: result.missed, duplicate: false };
  }

  /** A request id seen before: the first run's result. */
  private again(slot: Slot<S, E>, requestId: string, seen: Remembered<E>, command: C): HandleResult<E> {
    let answer: unknown;
    if (seen.answer) answer = seen.answer.value;
    else if (!this.o.aggregate.answer) answer = seen.events;
    else if (seen.seqs[seen.seqs.length - 1] === slot.lastOwnSeq) {
      // Rebuilt from the log and nothing of ours came after it: the state is the one after it.
      answer = this.o.aggregate.answer(command, seen.events, slot.state);
    } else throw new DuplicateRequestError(requestId, seen.seqs);
    return { events: seen.events, answer, seqs: seen.seqs, position: slot.position, simTimeNs: slot.simTimeNs, missed: 0, duplicate: true };
  }

  private checkNeed(service: ServiceName, index: number, answered: number, round: number, maxRounds: number): void {
    if (!CALLS_DOWN_TO[this.service].includes(service)) {
      throw new AggregateProtocolError(`${this.service}: decide() needs ${service}, but ${this.service} may only call ${CALLS_DOWN_TO[this.service].join(', ') || 'nobody'}`);
    }
    if (index !== answered) {
      throw new AggregateProtocolError(`${this.service}: decide() asked question ${index} but ${answered} are answered (a re-run must ask the same questions in the same order)`);
    }
    if (round >= maxRounds) throw new AggregateProtocolError(`${this.service}: decide() asked more than ${maxRounds} questions for one command`);
  }

  /** Merges a position from elsewhere; a fence found this way stops the machine like a fenced append. */
  private merge(slot: Slot<S, E>, mine: LogPosition, hint: LogPosition | undefined): LogPosition {
    try {
      return mergePosition(mine, hint, this.service, machineKey(slot.ref));
    } catch (e) {
      this.fence(slot, e);
      throw e;
    }
  }

  private fence(slot: Slot<S, E>, e: unknown): void {
    if (!(e instanceof LogFencedError) && (e as { name?: unknown })?.name !== 'LogFencedError') return;
    if ((this.o.onFenced ?? 'refuse') === 'refuse') {
      slot.fenced = e as Error;
      this.logger.error(`${this.service} ${machineKey(slot.ref)}: another ${this.service} writer appends to this machine; this one stops serving it`, e);
    } else {
      slot.stale = true;
      this.logger.warn(`${this.service} ${machineKey(slot.ref)}: another ${this.service} writer appended; reloading from the log`);
    }
  }

  private async reload(slot: Slot<S, E>): Promise<void> {
    const t0 = performance.now();
    const r = await this.load(slot);
    this.logger.warn(`${this.service} ${machineKey(slot.ref)}: reloaded from the log (${r.events} events) in ${Math.round(performance.now() - t0)} ms`);
  }

  query<R>(machine: MachineRef, read: (state: S) => R): R {
    const slot = this.slots.get(machineKey(machine));
    return read(slot ? slot.state : this.o.aggregate.initialState());
  }

  position(machine: MachineRef): LogPosition {
    return this.slots.get(machineKey(machine))?.position ?? EMPTY_POSITION;
  }

  applied(machine: MachineRef, requestId: string): boolean {
    return requestId !== '' && (this.slots.get(machineKey(machine))?.recent.has(requestId) ?? false);
  }

  observe(machine: MachineRef, position: LogPosition | undefined, simTimeNs?: bigint): Promise<void> {
    if (this.closed) return Promise.reject(new HostClosedError(`${this.service}: the host is closed`));
    const slot = this.slot(machine);
    return slot.queue.run(async () => {
      if (slot.fenced) throw slot.fenced;
      slot.position = this.merge(slot, slot.position, position);
      slot.simTimeNs = bigMax(slot.simTimeNs, simTimeNs);
    });
  }

  machines(): MachineRef[] {
    return [...this.slots.values()].map((s) => s.ref);
  }

  rebuild(machine: MachineRef): Promise<void> {
    const slot = this.slot(machine);
    return slot.queue.run(() => this.reload(slot));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.values()].map((s) => s.queue.idle()));
  }
}
