// What replay knows about each aggregate: how to rebuild it and how to re-check a decision.
import type { Aggregate, ServiceName } from '@mmsim/kernel';
import type { AnyEventCodec } from '../codecs/codec.js';

/** A recorded decision replay re-derived and found different. */
export interface DecisionMismatch {
  /** What the event recorded (an address, a victim pid...), and what replay got. */
  readonly expected: string;
  readonly got: string;
  readonly detail?: string;
}

export interface ReplayAggregate<C, E, S> {
  readonly aggregate: Aggregate<C, E, S>;
  readonly codec: AnyEventCodec<E>;
  /**
   * Re-derives the decision an event records, from the state before it (re-runs the
   * allocator with the recorded answers, recomputes the OOM victim from the recorded candidate
   * table...). Returns the mismatch, or undefined when it agrees. Must not change the state:
   * it is called before evolve(), which may update in place.
   */
  verify?(stateBefore: S, event: E): DecisionMismatch | undefined;
}

type AnyReplayAggregate = ReplayAggregate<unknown, unknown, unknown>;

/** The aggregates replay rebuilds; events of a service missing here are skipped (and said so). */
export type ReplayRegistry = { readonly [S in ServiceName]?: AnyReplayAggregate };

/** Erases an entry's types so that entries of different aggregates fit one registry. */
export const replayEntry = <C, E, S>(entry: ReplayAggregate<C, E, S>): AnyReplayAggregate => entry as unknown as AnyReplayAggregate;
