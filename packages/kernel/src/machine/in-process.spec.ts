import { describe, expect, it } from 'vitest';
import { Need, StateHasher, type Aggregate } from '../common/index.js';
import { InProcessMachine } from './in-process.js';

// A toy pair: "vma" counts pages it asked "frames" for; frames hands out consecutive numbers.
type FramesCmd = { type: 'Alloc'; n: number };
type FramesEv = { type: 'Allocated'; first: number; n: number };
const frames: Aggregate<FramesCmd, FramesEv, { next: number }> = {
  service: 'frames',
  initialState: () => ({ next: 100 }),
  decide: (c, s) => [{ type: 'Allocated', first: s.next, n: c.n }],
  evolve: (s, e) => ({ next: e.first + e.n }),
  stateHash: (s) => new StateHasher().int(s.next).digest(),
  answer: (_c, evs) => evs[0].first,
};
type VmaCmd = { type: 'Touch'; pages: number; answers?: readonly unknown[] };
type VmaEv = { type: 'Faulted'; firstPfn: number; pages: number };
const vma: Aggregate<VmaCmd, VmaEv, { rss: number }> = {
  service: 'vma',
  initialState: () => ({ rss: 0 }),
  decide: (c) => {
    if (!c.answers?.length) throw new Need('frames', { type: 'Alloc', n: c.pages }, 0);
    return [{ type: 'Faulted', firstPfn: c.answers[0] as number, pages: c.pages }];
  },
  evolve: (s, e) => ({ rss: s.rss + e.pages }),
  stateHash: (s) => new StateHasher().int(s.rss).digest(),
};

describe('InProcessMachine', () => {
  it('answers a Need by handling it below, and records the lower events first', () => {
    const log: string[] = [];
    const m = new InProcessMachine({ frames, vma }, { onEvents: (svc, evs) => log.push(`${svc}:${evs.length}`) });
    const r = m.handle('vma', { type: 'Touch', pages: 3 });
    expect(r.events).toEqual([{ type: 'Faulted', firstPfn: 100, pages: 3 }]);
    expect(m.state<{ rss: number }>('vma').rss).toBe(3);
    expect(m.state<{ next: number }>('frames').next).toBe(103);
    expect(log).toEqual(['frames:1', 'vma:1']);
    m.handle('vma', { type: 'Touch', pages: 2 });
    expect(m.state<{ next: number }>('frames').next).toBe(105);
  });

  it('refuses a decide() that skips a question', () => {
    const bad: Aggregate<VmaCmd, VmaEv, { rss: number }> = { ...vma, decide: () => { throw new Need('frames', { type: 'Alloc', n: 1 }, 5); } };
    const m = new InProcessMachine({ frames, vma: bad });
    expect(() => m.handle('vma', { type: 'Touch', pages: 1 })).toThrow(/asked question 5/);
  });
});
