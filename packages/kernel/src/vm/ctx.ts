// The machinery of decide(): a draft of the state that every emitted event is applied to, and
// questions to other services asked as generator yields.
//
// decide() is written as generators: `const reply = yield* ask('frames', request)`. The driver
// (aggregate.ts) feeds the answers the command carries; when it runs out it throws
// Need(service, request, index). A re-run with one more answer asks the same questions in the
// same order, so it gets one step further. The driver also keeps the suspended generator of
// the last run (for the same state and command), so a re-run resumes it instead of starting
// over: a touch that needs 400 page-cache lookups costs 400 steps, not 400^2.
import type { ServiceName } from '../common/index.js';
import { apply } from './apply.js';
import type { Release } from './mm-ops.js';
import type { VmEvent, VmState } from './types.js';
import { World } from './world.js';

export interface Ask {
  readonly service: ServiceName;
  readonly request: unknown;
}

/** A step of decide() that may ask questions and yields a T. */
export type Step<T> = Generator<Ask, T, unknown>;

export function* ask<T>(service: ServiceName, request: unknown): Step<T> {
  return (yield { service, request }) as T;
}

export class Ctx {
  readonly events: VmEvent[] = [];
  readonly w: World;
  /** OOM rounds in this command (a bound against a policy that never makes progress). */
  oomRounds = 0;
  /** An oom 'wait' verdict was already retried once in this command. */
  oomWaited = false;

  constructor(readonly state: VmState) {
    this.w = World.draftOf(state);
  }

  /** Records an event and applies it to the draft; returns what it released. */
  emit(e: VmEvent): Release | null {
    this.events.push(e);
    return apply(this.w, e);
  }

  get last(): VmEvent | undefined {
    return this.events[this.events.length - 1];
  }

  /**
   * Folds the last PagesFaulted into the one before it when they are of the same kind, for the
   * same mm, with nothing in between: per-page requests (page cache, swap) then log one event per
   * run. Applying the folded event is the same as applying both (apply goes page by page).
   */
  coalesceFaults(): void {
    const n = this.events.length;
    if (n < 2) return;
    const a = this.events[n - 2];
    const b = this.events[n - 1];
    if (a.type !== 'PagesFaulted' || b.type !== 'PagesFaulted') return;
    if (a.pid !== b.pid || a.mmId !== b.mmId || a.how !== b.how || a.write !== b.write) return;
    appendRuns(a.vpns as number[], b.vpns);
    appendRuns(a.pfns as number[], b.pfns);
    this.events[n - 2] = { ...a, majorFaults: a.majorFaults + b.majorFaults };
    this.events.pop();
  }
}

/** Appends run-encoded numbers to run-encoded numbers, joining the runs that meet. */
function appendRuns(into: number[], more: readonly number[]): void {
  for (let i = 0; i < more.length; i += 2) {
    const k = into.length;
    if (k >= 2 && into[k - 2] + into[k - 1] === more[i]) into[k - 1] += more[i + 1];
    else into.push(more[i], more[i + 1]);
  }
}
