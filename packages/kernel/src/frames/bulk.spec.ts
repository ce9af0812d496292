import { describe, expect, it } from 'vitest';
import { NR_PAGE_ORDERS } from './constants.js';
import { MS, M_LRU_HEAD } from './counters.js';
import { frames } from './aggregate.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, machine } from './spec-machines.js';
import type { FramesState } from './state.js';

/** Every buddy free list and LRU list of the root memcg, in list order (the state hash does not see order). */
function lists(s: FramesState): number[][] {
  s.settle();
  const walk = (head: number): number[] => {
    const out: number[] = [];
    for (let i = head; i >= 0;) {
      out.push(i);
      i = s.next[i];
      if (i === head) break;
    }
    return out;
  };
  const out: number[][] = [];
  for (let k = 0; k < 3 * NR_PAGE_ORDERS; k++) out.push(walk(s.freeHead[k]));
  for (let l = 0; l < 5; l++) out.push(walk(s.mcg[0 * MS + M_LRU_HEAD + l]));
  return out;
}

/** A 1 GiB machine with fragmented free lists: 5000 pages allocated, then every third one freed. */
function fragmented(): FramesState {
  const s = bootFrames(machine(GiB));
  const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 5000 }], memcg: 0, allowReclaim: true });
  handleFrames(s, { type: 'FreeUserPages', pfns: reply.pfns.filter((_, k) => k % 3 === 0) });
  return s;
}

describe('the fast lane gives what page-by-page allocation gives', () => {
  it('one command of 3000 pages = 3000 commands of one page (same pfns, lists, hash)', () => {
    const a = fragmented();
    const b = fragmented();
    const one = handleFrames(a, { type: 'AllocUserPages', runs: [{ kind: 'file', owner: 2, index: 0, count: 3000 }], memcg: 0, allowReclaim: true });
    const each: number[] = [];
    for (let k = 0; k < 3000; k++) {
      each.push(...handleFrames(b, { type: 'AllocUserPages', runs: [{ kind: 'file', owner: 2, index: k, count: 1 }], memcg: 0, allowReclaim: true }).reply.pfns);
    }
    expect(one.reply.pfns).toEqual(each);
    // Small free blocks first: the 1667 single pages freed above come out before any split block.
    expect(new Set(one.reply.pfns.slice(0, 1667)).size).toBe(1667);
    expect(frames.stateHash(a)).toBe(frames.stateHash(b));
    expect(lists(a)).toEqual(lists(b));
  });

  it('freeing a run at once = freeing its pages one by one in ascending order', () => {
    const a = fragmented();
    const b = fragmented();
    const pfns = handleFrames(a, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 3, index: 0, count: 2500 }], memcg: 0, allowReclaim: true }).reply.pfns;
    handleFrames(b, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 3, index: 0, count: 2500 }], memcg: 0, allowReclaim: true });
    const sorted = [...pfns].sort((x, y) => x - y);
    handleFrames(a, { type: 'FreeUserPages', pfns: sorted });
    for (const p of sorted) handleFrames(b, { type: 'FreeUserPages', pfns: [p] });
    expect(frames.stateHash(a)).toBe(frames.stateHash(b));
    expect(lists(a)).toEqual(lists(b));
  });
});
