// The batched requests (GetFilePages, SwapInPages) give what the per-page ones give, page by
// page; read(2) is not a page fault; memory.high reclaims without failing; MADV_FREE pages are
// dropped, not swapped.
import { describe, expect, it } from 'vitest';
import { framesFigures, memcgFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';

const anonRun = (owner: number, index: number, count: number) => ({ kind: 'anon' as const, owner, index, count });

describe('GetFilePages', () => {
  it('gets the same frames, counts and lists as GetFilePage page by page', () => {
    const one = bootFrames(machine(GiB));
    const batch = bootFrames(machine(GiB));
    const pfns: number[] = [];
    for (let k = 0; k < 300; k++) pfns.push(...handleFrames(one, { type: 'GetFilePage', file: 9, index: 100 + k, memcg: 0 }).reply.pfns);
    const r = handleFrames(batch, { type: 'GetFilePages', file: 9, index: 100, count: 300, memcg: 0 });
    expect(r.reply.pfns).toEqual(pfns);
    expect(r.reply.majorFaults).toBe(300);
    expect(framesFigures(batch)).toEqual(framesFigures(one));
  });

  it('read(2): pages read from disk count in pgpgin (4 kB each) and in majorFaults, not as page faults', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'GetFilePage', file: 9, index: 1, memcg: 0 });
    const r = handleFrames(s, { type: 'GetFilePages', file: 9, index: 0, count: 4, memcg: 0, read: true });
    expect(r.reply.majorFaults).toBe(3); // page 1 was cached
    const f = framesFigures(s);
    expect(f.events.pgpgin).toBe(4 * 4);
    expect(f.events.pgmajfault_frames).toBe(1); // only the GetFilePage fault
    expect(f.filePages).toBe(4);
  });

  it('read(2) marks what it reads accessed (filemap_read): read twice, a page is active; faulted twice, still inactive', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'GetFilePages', file: 2, index: 0, count: 8, memcg: 0, read: true });
    expect([framesFigures(s).inactiveFile, framesFigures(s).activeFile]).toEqual([8, 0]);
    handleFrames(s, { type: 'GetFilePages', file: 2, index: 0, count: 8, memcg: 0, read: true });
    expect([framesFigures(s).inactiveFile, framesFigures(s).activeFile]).toEqual([0, 8]);
    handleFrames(s, { type: 'GetFilePages', file: 3, index: 0, count: 8, memcg: 0 });
    handleFrames(s, { type: 'GetFilePages', file: 3, index: 0, count: 8, memcg: 0 });
    expect([framesFigures(s).inactiveFile, framesFigures(s).activeFile]).toEqual([8, 8]);
  });

  it('a memcg full of the file reclaims the batch\'s own older pages (they come back as evictions)', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 3, maxPages: 64, parent: 0 });
    const r = handleFrames(s, { type: 'GetFilePages', file: 5, index: 0, count: 200, memcg: 3, read: true });
    expect(r.reply.failed).toBeNull();
    expect(r.reply.pfns).toHaveLength(200);
    const gone = r.reply.evicted.filter((e) => e.page.kind === 'file' && e.page.owner === 5);
    expect(gone.length).toBeGreaterThanOrEqual(200 - 64);
    expect(memcgFigures(s, 3)?.current).toBeLessThanOrEqual(64);
  });
});

describe('SwapInPages', () => {
  it('gets the same frames and counts as SwapIn one entry at a time', () => {
    const setup = () => {
      const s = bootFrames(machine(GiB, 64 * MiB));
      handleFrames(s, { type: 'SetMemcgLimit', memcg: 1, maxPages: 16, parent: 0 });
      // 48 anon pages in a memcg of 16: 32 go to swap (slots 1..32 for indexes 0..31).
      const a = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(7, 0, 48)], memcg: 1, allowReclaim: true });
      const slots = a.reply.evicted.map((e) => [e.swapSlot, e.page.index]);
      handleFrames(s, { type: 'SetMemcgLimit', memcg: 1, maxPages: null, parent: 0 });
      return { s, slots };
    };
    const one = setup();
    const batch = setup();
    expect(one.slots).toHaveLength(32);
    const pfns: number[] = [];
    let major = 0;
    for (const [slot, index] of one.slots) {
      const r = handleFrames(one.s, { type: 'SwapIn', slot, page: { kind: 'anon', owner: 7, index }, memcg: 1 });
      pfns.push(...r.reply.pfns);
      major += r.reply.majorFaults;
    }
    const entries = batch.slots.map(([slot, index]) => ({ slot, index, count: 1 }));
    const r = handleFrames(batch.s, { type: 'SwapInPages', owner: 7, entries, memcg: 1 });
    expect(r.reply.pfns).toEqual(pfns);
    expect(r.reply.majorFaults).toBe(major);
    expect(major).toBe(32);
    expect(framesFigures(batch.s)).toEqual(framesFigures(one.s));
  });

  it('refuses an entry that is not in use (nothing changes)', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    expect(() => handleFrames(s, { type: 'SwapInPages', owner: 1, entries: [{ slot: 3, index: 0, count: 1 }], memcg: 0 })).toThrow(/swap slot 3/);
  });
});

describe('memory.high', () => {
  it('writing it below memory.current reclaims down to it, without an OOM', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 2, maxPages: null, parent: 0 });
    handleFrames(s, { type: 'GetFilePages', file: 4, index: 0, count: 1000, memcg: 2, read: true });
    const r = handleFrames(s, { type: 'SetMemcgHigh', memcg: 2, highPages: 300 });
    expect(r.reply.evicted.length).toBeGreaterThanOrEqual(700);
    expect(memcgFigures(s, 2)?.current).toBeLessThanOrEqual(300);
    expect(memcgFigures(s, 2)?.high).toBe(300);
  });

  it('charges above it are reclaimed back in the same request; "high" is counted; the request never fails', () => {
    const s = bootFrames(machine(GiB, 256 * MiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 2, maxPages: null, parent: 0 });
    handleFrames(s, { type: 'SetMemcgHigh', memcg: 2, highPages: 256 });
    const r = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(9, 0, 2000)], memcg: 2, allowReclaim: true });
    expect(r.reply.failed).toBeNull();
    expect(r.reply.pfns).toHaveLength(2000);
    const m = memcgFigures(s, 2);
    // reclaim_high runs every MEMCG_CHARGE_BATCH (64) pages above high, and at the end of the request.
    expect(m?.current).toBeLessThanOrEqual(256 + 64);
    expect(m?.events.high).toBeGreaterThan(0);
    expect(m?.events.oom).toBe(0);
    expect(framesFigures(s).events.pswpout).toBeGreaterThanOrEqual(2000 - 256 - 64);
  });

  it('without anything to reclaim, the memcg simply stays above high (no OOM, no failure)', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 2, maxPages: null, parent: 0 });
    handleFrames(s, { type: 'SetMemcgHigh', memcg: 2, highPages: 10 });
    const r = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(9, 0, 500)], memcg: 2, allowReclaim: true });
    expect(r.reply.failed).toBeNull();
    expect(memcgFigures(s, 2)?.current).toBe(500);
  });
});

describe('MADV_FREE (MarkLazyFree)', () => {
  it('lazily freeable pages move to the inactive file list and reclaim drops them without swap', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 1, maxPages: 100, parent: 0 });
    const a = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(3, 0, 80)], memcg: 1, allowReclaim: true });
    const lazy = a.reply.pfns.slice(0, 50);
    handleFrames(s, { type: 'MarkLazyFree', pfns: lazy, lazy: true });
    const f = framesFigures(s);
    expect([f.inactiveAnon, f.inactiveFile, f.anonPages]).toEqual([30, 50, 80]);
    // 40 more pages in a memcg of 100 without swap: reclaim can only drop the lazy pages.
    const b = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(3, 80, 40)], memcg: 1, allowReclaim: true });
    expect(b.reply.failed).toBeNull();
    const dropped = b.reply.evicted;
    expect(dropped.length).toBeGreaterThanOrEqual(20);
    for (const e of dropped) {
      expect(e.page.kind).toBe('anon');
      expect(e.swapSlot).toBe(-1);
      expect(lazy).toContain(e.pfn);
    }
    expect(framesFigures(s).events.pglazyfreed).toBe(dropped.length);
  });

  it('a write makes a lazy page dirty again: back on the anon list', () => {
    const s = bootFrames(machine(GiB));
    const a = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(3, 0, 4)], memcg: 0, allowReclaim: true });
    handleFrames(s, { type: 'MarkLazyFree', pfns: a.reply.pfns, lazy: true });
    handleFrames(s, { type: 'MarkLazyFree', pfns: a.reply.pfns.slice(0, 1), lazy: false });
    const f = framesFigures(s);
    expect([f.inactiveAnon, f.inactiveFile]).toEqual([1, 3]);
  });

  it('drop_caches leaves lazy anonymous pages alone (they are not page cache)', () => {
    const s = bootFrames(machine(GiB));
    const a = handleFrames(s, { type: 'AllocUserPages', runs: [anonRun(3, 0, 4)], memcg: 0, allowReclaim: true });
    handleFrames(s, { type: 'MarkLazyFree', pfns: a.reply.pfns, lazy: true });
    handleFrames(s, { type: 'GetFilePages', file: 1, index: 0, count: 5, memcg: 0 });
    const d = handleFrames(s, { type: 'DropCaches', mode: 1 });
    expect(d.reply.evicted.map((e) => e.page.kind)).toEqual(['file', 'file', 'file', 'file', 'file']);
    expect(framesFigures(s).inactiveFile).toBe(4);
  });
});
