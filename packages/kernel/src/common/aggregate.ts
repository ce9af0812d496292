// The shape every aggregate of the model has, so that services, the in-process machine and
// replay can host any of them the same way.
//
// decide() is pure: it reads state and returns events, throws a Rejection for a bad call, or
// throws Need when it cannot finish without an answer from a service below it. The caller then
// gets that answer and calls decide() again with the answer appended to the command's
// `answers`; decide() must ask the same questions in the same order every time, so a re-run
// with more answers gets further. evolve() applies one event and decides nothing; aggregates
// that keep big typed arrays may update in place and return the same object.

export const SERVICES = ['frames', 'vma', 'heap', 'oom'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Calls go down only: heap -> vma -> { frames, oom }. Reads (queries) may go anywhere. */
export const CALLS_DOWN_TO: Readonly<Record<ServiceName, readonly ServiceName[]>> = {
  heap: ['vma'],
  vma: ['frames', 'oom'],
  frames: [],
  oom: [],
};

export interface Aggregate<Command, Event, State> {
  readonly service: ServiceName;
  initialState(): State;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  /** 16 hex digits over the whole state (incremental in big aggregates). */
  stateHash(state: State): string;
  /**
   * What the caller of a command gets back: for a command another service sent as a Need,
   * the answer that service's decide() reads from `answers` (frames: AllocReply, oom:
   * OomVerdict, vma: a system call's result). Computed from the events the command produced
   * and the state after them. Absent: the events themselves are the answer.
   */
  answer?(command: Command, events: readonly Event[], stateAfter: State): unknown;
}

/**
 * Thrown by decide() when it needs a service below it. `request` is that service's command
 * (or query); `index` is its position among the answers, so a caller can check that a re-run
 * asked the same thing.
 */
export class Need<Req = unknown> {
  readonly name = 'Need';
  constructor(
    readonly service: ServiceName,
    readonly request: Req,
    readonly index: number,
  ) {}
}

export const isNeed = (e: unknown): e is Need => e instanceof Need || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'Need');
