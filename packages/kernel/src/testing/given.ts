// given(decider, events).when(command).then(events), after emmett's DeciderSpecification.
import { expect } from 'vitest';
import { isRejection, type Decider } from '../common/index.js';

export function given<C, E, S>(decider: Decider<C, E, S>, events: readonly E[] = []) {
  const state = () => events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
  return {
    when(command: C) {
      const run = () => decider.decide(command, state());
      return {
        then(expected: readonly E[]): void {
          expect(run()).toEqual(expected);
        },
        thenNothingHappened(): void {
          expect(run()).toEqual([]);
        },
        thenRejects(code: string): void {
          let caught: unknown;
          try {
            run();
          } catch (e) {
            caught = e;
          }
          expect(isRejection(caught), `expected a Rejection ${code}, got ${String(caught)}`).toBe(true);
          expect((caught as { code: string }).code).toBe(code);
        },
        /** The events, for checks that are not plain equality. */
        events(): E[] {
          return run();
        },
      };
    },
  };
}
