import { describe, expect, it } from 'vitest';
import { frameTableBytes, framesFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, machine } from './spec-machines.js';

describe('host memory per frame', () => {
  it('a 64 GiB machine (16M frames) keeps at most 16 bytes per frame: 256 MiB', () => {
    const s = bootFrames(machine(64 * GiB));
    expect(s.nFrames).toBe(16 * 2 ** 20);
    // Every array sized by the number of frames:
    const perFrame = [s.word, s.index, s.next, s.prev].map((a) => a.byteLength / s.nFrames);
    expect(perFrame).toEqual([4, 4, 4, 4]);
    expect(frameTableBytes(s)).toBeLessThanOrEqual(256 * 2 ** 20);
    // ...and nothing else in the state grows with RAM: the other tables stay small after boot.
    const other = s.freeHead.byteLength + s.ctr.byteLength + s.mcg.byteLength + s.handleKind.byteLength + s.swapMap.byteLength;
    expect(other).toBeLessThan(64 * 1024);
    // It works: a page from Normal.
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 1 }], memcg: 0, allowReclaim: true });
    expect(reply.pfns).toEqual([1048576]);
    expect(framesFigures(s).totalRam * 4).toBeLessThan(64 * 2 ** 20);
  });
});
