// The heap aggregate of one machine: every process's glibc 2.36 allocator.
import type { Aggregate } from '../../common/aggregate.js';
import type { Decider } from '../../common/decider.js';
import { decide } from './decide.js';
import { evolve, initialState, stateHash } from './evolve.js';
import type { HeapState } from './state.js';
import type { HeapCallResult, HeapCommand, HeapEvent } from './types.js';

/** What a call command's caller gets back: the call's result (or nothing for other commands). */
function answer(_command: HeapCommand, events: readonly HeapEvent[]): HeapCallResult | undefined {
  for (const e of events) if (e.type === 'HeapCallCompleted') return e.result;
  return undefined;
}

export const heap: Aggregate<HeapCommand, HeapEvent, HeapState> & Decider<HeapCommand, HeapEvent, HeapState> = {
  service: 'heap',
  initialState,
  decide,
  evolve,
  stateHash,
  answer,
};

export { HeapState, type HeapProcessEntry } from './state.js';
export { AnswerSys, HeapDivergence, NO_SYS } from './answer-sys.js';
export { callEvents, decide } from './decide.js';
export { commandOf, evolve, initialState, stateHash } from './evolve.js';
export * from './types.js';
