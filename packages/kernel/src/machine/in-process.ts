// The four aggregates of one machine wired together synchronously, in one place: no bus, no
// log. A Need is answered at once by handling the request on the aggregate it names. This is
// what trace replays, what-if continuations, snapshot imports and benches run on; the
// services do the same thing asynchronously over the bus (packages/host).
import { isNeed, type Aggregate, type ServiceName } from '../common/aggregate.js';

// Aggregate's methods are bivariant, so any concrete aggregate fits this registry type.
type AnyAggregate = Aggregate<unknown, unknown, unknown>;

/** Commands that can be re-run with answers carry them here. */
interface Answerable {
  readonly answers?: readonly unknown[];
}

export interface HandledCommand {
  readonly service: ServiceName;
  readonly command: unknown;
  readonly events: readonly unknown[];
  readonly answer: unknown;
}

export interface InProcessMachineOptions {
  /** Called for every command that produced events, innermost first (the order a log records them). */
  readonly onEvents?: (service: ServiceName, events: readonly unknown[], hashes: readonly string[]) => void;
  /** Upper bound on Need rounds for one command: a decide() that keeps asking is a bug. */
  readonly maxRounds?: number;
}

export class InProcessMachine {
  private readonly states = new Map<ServiceName, unknown>();

  constructor(
    private readonly aggregates: Partial<Record<ServiceName, AnyAggregate>>,
    private readonly options: InProcessMachineOptions = {},
  ) {
    for (const [name, agg] of Object.entries(aggregates) as [ServiceName, AnyAggregate][]) {
      this.states.set(name, agg.initialState());
    }
  }

  state<S>(service: ServiceName): S {
    if (!this.states.has(service)) throw new Error(`in-process machine: no ${service} aggregate`);
    return this.states.get(service) as S;
  }

  /** Decides, answering every Need by handling it below, then applies the events. */
  handle(service: ServiceName, command: unknown): HandledCommand {
    const agg = this.aggregates[service];
    if (!agg) throw new Error(`in-process machine: no ${service} aggregate`);
    const maxRounds = this.options.maxRounds ?? 10_000;
    let cmd = command as Answerable;
    const asked: unknown[] = [];
    for (let round = 0; ; round++) {
      if (round > maxRounds) throw new Error(`${service}: decide() asked more than ${maxRounds} questions for one command`);
      let events: unknown[];
      try {
        events = agg.decide(cmd, this.states.get(service));
      } catch (e) {
        if (!isNeed(e)) throw e;
        if (e.index !== (cmd.answers?.length ?? 0)) {
          throw new Error(`${service}: decide() asked question ${e.index} but ${cmd.answers?.length ?? 0} were answered`);
        }
        asked.push(e.request);
        const below = this.handle(e.service, e.request);
        cmd = { ...cmd, answers: [...(cmd.answers ?? []), below.answer] };
        continue;
      }
      let state = this.states.get(service);
      const hashes: string[] = [];
      for (const ev of events) {
        state = agg.evolve(state, ev);
        hashes.push(agg.stateHash(state));
      }
      this.states.set(service, state);
      if (events.length && this.options.onEvents) this.options.onEvents(service, events, hashes);
      const answer = agg.answer ? agg.answer(cmd, events, state) : events;
      return { service, command: cmd, events, answer };
    }
  }
}
