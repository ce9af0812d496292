import { describe, expect, it } from 'vitest';
import { frames, FramesDivergence } from './aggregate.js';
import { bootFrames, handleFrames } from './host.js';
import { MiB, machine } from './spec-machines.js';
import type { FramesCommand, FramesEvent } from './types.js';
import type { FramesState } from './state.js';
import { MS, T_FILES, T_HANDLES, T_MEMCGS } from './counters.js';
import { StateHasher } from '../common/index.js';

/** A workload that exercises reclaim, swap, the page cache, memcgs and kernel pages. */
const workload: FramesCommand[] = [
  { type: 'SetMemcgLimit', memcg: 5, maxPages: 3000, parent: 0 },
  { type: 'SetMemcgSwapMax', memcg: 5, swapMaxPages: 500 },
  ...Array.from({ length: 40 }, (_, k): FramesCommand => ({ type: 'GetFilePage', file: 1, index: k * 50, memcg: 0 })),
  { type: 'AllocUserPages', runs: [{ kind: 'file', owner: 2, index: 0, count: 6000 }], memcg: 0, allowReclaim: true },
  { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 3, index: 0, count: 4000 }], memcg: 5, allowReclaim: true },
  { type: 'AddKernelPages', kind: 'slab_reclaimable', pages: 500 },
  { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 4, index: 0, count: 12000 }], memcg: 0, allowReclaim: true },
  { type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 3, index: 0 }, memcg: 5 },
  { type: 'Tick', nowNs: 1000 },
  { type: 'DropCaches', mode: 3 },
  { type: 'SetSysctl', name: 'min_free_kbytes', value: 4096 },
  { type: 'AllocUserPages', runs: [{ kind: 'shmem', owner: 6, index: 0, count: 2000 }], memcg: 0, allowReclaim: true },
];

/**
 * A digest of every typed array and Map of the state (links and list heads are not in the
 * state hash, so this checks them too). Growable tables count up to their used length: decide
 * may leave them with more capacity, never with other contents. The model only looks Maps up
 * by key, so their iteration order is not state: entries are sorted.
 */
function snapshot(s: FramesState): string {
  s.settle(); // observing the state: a pending speculative decide is rolled back
  const h = new StateHasher();
  const used = (a: ArrayLike<number>, n: number): void => {
    h.int(n);
    for (let i = 0; i < n; i++) h.int(a[i] ?? 0);
  };
  const map = <V>(m: Map<number, V>, v: (x: V) => void): void => {
    for (const [k, x] of [...m].sort((p, q) => p[0] - q[0])) {
      h.int(k);
      v(x);
    }
  };
  const handles = s.ctr[T_HANDLES] + 1;
  for (const a of [s.word, s.index, s.next, s.prev]) used(a, s.nFrames);
  used(s.freeHead, s.freeHead.length);
  used(s.mcg, s.ctr[T_MEMCGS] * MS);
  used(s.swapMap, s.swapMap.length);
  used(s.swapCgroup, s.swapCgroup.length);
  for (const a of [s.handleKind, s.handleOwner, s.handleMemcg, s.handleFile, s.handleRefs, s.handleFree]) used(a, handles);
  used(s.fileMaxChunk, s.ctr[T_FILES]);
  used(s.ctr, s.ctr.length);
  const int = (x: number): void => void h.int(x);
  map(s.memcgIdx, int);
  map(s.handleIds, int);
  map(s.fileIds, int);
  map(s.chunks, (c) => used(c, c.length));
  map(s.swapCacheBySlot, int);
  map(s.swapCacheByIdx, int);
  return h.digest();
}

function run(): { s: FramesState; log: FramesEvent[]; hashes: string[] } {
  const s = bootFrames(machine(128 * MiB, 64 * MiB));
  const log: FramesEvent[] = [];
  const hashes: string[] = [];
  for (const c of workload) {
    for (const e of handleFrames(s, c).events) {
      log.push(e);
      hashes.push(frames.stateHash(s));
    }
  }
  return { s, log, hashes };
}

describe('decide is pure; evolve replays', () => {
  it('decide leaves the state hash unchanged, even when the decision reclaims and swaps', () => {
    const s = bootFrames(machine(128 * MiB, 64 * MiB));
    for (const c of workload) {
      const before = frames.stateHash(s);
      const arrays = snapshot(s);
      const events = frames.decide(c, s);
      expect(frames.stateHash(s)).toBe(before);
      expect(snapshot(s)).toBe(arrays);
      // The same decision again: same events (nothing leaked from the first run).
      expect(frames.decide(c, s)).toEqual(events);
      for (const e of events) frames.evolve(s, e);
    }
  });

  it('two runs give the same events and hashes', () => {
    const a = run();
    const b = run();
    expect(b.log).toEqual(a.log);
    expect(b.hashes).toEqual(a.hashes);
    expect(a.log.some((e) => e.type === 'UserPagesAllocated' && e.outcome.evicted.length > 0)).toBe(true);
  });

  it('replaying the log on a fresh state reproduces every hash', () => {
    const { log, hashes } = run();
    const s = frames.initialState();
    const boot: FramesEvent = { type: 'MachineBooted', config: machine(128 * MiB, 64 * MiB), modelVersion: 1 };
    frames.evolve(s, boot);
    log.forEach((e, k) => {
      frames.evolve(s, e);
      expect(frames.stateHash(s)).toBe(hashes[k]);
    });
  });

  it('a tampered outcome is a divergence', () => {
    const { log } = run();
    const k = log.findIndex((e) => e.type === 'UserPagesAllocated' && e.outcome.pfns.length > 0);
    const e = log[k] as Extract<FramesEvent, { type: 'UserPagesAllocated' }>;
    const bad: FramesEvent = { ...e, outcome: { ...e.outcome, pfns: [{ pfn: e.outcome.pfns[0].pfn + 1, count: e.outcome.pfns[0].count }, ...e.outcome.pfns.slice(1)] } };
    const s = frames.initialState();
    frames.evolve(s, { type: 'MachineBooted', config: machine(128 * MiB, 64 * MiB), modelVersion: 1 });
    for (let i = 0; i < k; i++) frames.evolve(s, log[i]);
    expect(() => frames.evolve(s, bad)).toThrow(FramesDivergence);
  });

  it('a rejected command changes nothing', () => {
    const s = bootFrames(machine(128 * MiB, 64 * MiB));
    handleFrames(s, { type: 'GetFilePage', file: 1, index: 0, memcg: 0 });
    const before = frames.stateHash(s);
    // The duplicate is found after the first page was allocated: the journal undoes it.
    expect(() => frames.decide({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 1 }, { kind: 'file', owner: 1, index: 0, count: 1 }], memcg: 0, allowReclaim: true }, s)).toThrow();
    expect(frames.stateHash(s)).toBe(before);
  });
});
