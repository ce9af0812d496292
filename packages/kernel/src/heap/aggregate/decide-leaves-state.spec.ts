// decide() must leave the state as it found it, whatever it ran into: the host runs it again
// with more answers, and a run that changed the state would not be the run the answers were for.
// A realloc() of an mmapped chunk that mremap moves once leaked: the moved page shared its
// words with the page rollback() restored, so the old chunk's header showed the new size.
import { describe, expect, it } from 'vitest';
import { isNeed, type Aggregate } from '../../common/index.js';
import { DEFAULT_SYSCTLS } from '../../machine/config.js';
import { FullMachine } from '../../vm/full-machine.js';
import { heap, type HeapCommand, type HeapEvent, type HeapState } from './index.js';

const config = { tenant: 't', machine: 'm', profile: 'linux-6.18' as const, ramBytes: 2 ** 30, swapBytes: 0, cpus: 2, seed: 1, sysctl: DEFAULT_SYSCTLS };

/** Answers every Need of `cmd` through the machine, then checks every prefix of answers leaves the state alone. */
function checkDecideIsPure(fm: FullMachine, cmd: HeapCommand): HeapEvent[] {
  const state = fm.m.state<HeapState>('heap');
  const before = heap.stateHash(state);
  // Collect the answers the machine gives, one Need at a time, the way the host does.
  const answers: unknown[] = [];
  let events: HeapEvent[] | undefined;
  for (let round = 0; round < 50 && !events; round++) {
    try {
      events = heap.decide({ ...cmd, answers } as HeapCommand, state);
    } catch (e) {
      if (!isNeed(e)) throw e;
      expect(e.index).toBe(answers.length);
      answers.push(fm.m.handle(e.service, e.request).answer);
    }
    expect(heap.stateHash(state)).toBe(before);
  }
  expect(events).toBeDefined();
  // With every answer at once, on the untouched state, the same events again.
  expect(heap.decide({ ...cmd, answers } as HeapCommand, state)).toEqual(events);
  expect(heap.stateHash(state)).toBe(before);
  return events!;
}

describe('heap decide() leaves the state as it found it', () => {
  it('for a realloc that mremap moves', () => {
    const fm = new FullMachine(config, {}, heap as unknown as Aggregate<unknown, unknown, unknown>);
    const pid = fm.handle({ type: 'Spawn', name: 'p' } as never).answer as number;
    const brkStart = fm.state.mms.get(fm.state.tasks.get(pid)!.mmId)!.startBrk;
    fm.m.handle('heap', { type: 'CreateHeap', pid, brkStart, cpus: 2 });
    const a = fm.m.handle('heap', { type: 'Malloc', pid, tid: pid, size: 200_000 }).answer as { value: number };
    // A second mapping right below the first, so growing the first cannot stay in place.
    fm.m.handle('heap', { type: 'Malloc', pid, tid: pid, size: 200_000 });
    const events = checkDecideIsPure(fm, { type: 'Realloc', pid, tid: pid, ptr: a.value, size: 900_000 });
    const done = events.find((e) => e.type === 'HeapCallCompleted');
    expect(done?.type === 'HeapCallCompleted' && done.syscalls.map((s) => s.call.nr)).toEqual(['mremap']);
    expect(done?.type === 'HeapCallCompleted' && done.result.kind === 'pointer' && done.result.value !== a.value).toBe(true); // it moved
    // The events apply (evolve re-runs the call with the recorded answers and gets the same result).
    let st = fm.m.state<HeapState>('heap');
    for (const e of events) st = heap.evolve(st, e);
  });
});
