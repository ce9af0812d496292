import { describe, expect, it } from 'vitest';
import { framesFigures } from './answer.js';
import { bootFrames, handleFrames } from './host.js';
import { GiB, MiB, machine } from './spec-machines.js';

describe('the page cache', () => {
  it('a miss reads the page (major, pgpgin 4 KiB); a hit is minor and returns the same frame', () => {
    const s = bootFrames(machine(GiB));
    const miss = handleFrames(s, { type: 'GetFilePage', file: 7, index: 3, memcg: 0 });
    expect(miss.reply.majorFaults).toBe(1);
    const hit = handleFrames(s, { type: 'GetFilePage', file: 7, index: 3, memcg: 0 });
    expect(hit.reply.majorFaults).toBe(0);
    expect(hit.reply.pfns).toEqual(miss.reply.pfns);
    const f = framesFigures(s);
    expect(f.events.pgpgin).toBe(4);
    expect(f.filePages).toBe(1);
    expect([f.inactiveFile, f.activeFile]).toEqual([1, 0]);
  });

  it('mark_page_accessed: the first hit sets referenced, the second activates', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'GetFilePage', file: 7, index: 0, memcg: 0 });
    handleFrames(s, { type: 'GetFilePage', file: 7, index: 0, memcg: 0 });
    expect(framesFigures(s).activeFile).toBe(0);
    handleFrames(s, { type: 'GetFilePage', file: 7, index: 0, memcg: 0 });
    const f = framesFigures(s);
    expect([f.inactiveFile, f.activeFile]).toEqual([0, 1]);
    expect(f.events.pgactivate).toBe(1);
  });

  it('block-device pages are Buffers; shmem pages are Shmem, on the anon lists, and not read from disk', () => {
    const s = bootFrames(machine(GiB));
    handleFrames(s, { type: 'GetFilePage', file: 1, index: 0, memcg: 0, kind: 'bdev' });
    const sh = handleFrames(s, { type: 'GetFilePage', file: 2, index: 0, memcg: 0, kind: 'shmem' });
    expect(sh.reply.majorFaults).toBe(0);
    const f = framesFigures(s);
    expect(f.buffers).toBe(1);
    expect(f.shmem).toBe(1);
    expect(f.filePages).toBe(2);
    expect([f.inactiveAnon, f.inactiveFile]).toEqual([1, 1]);
    expect(f.events.pgpgin).toBe(4);
  });

  it('evicted shmem pages keep their swap entry in the page cache and come back as a major fault', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 2, parent: 0 });
    handleFrames(s, { type: 'GetFilePage', file: 2, index: 0, memcg: 5, kind: 'shmem' });
    handleFrames(s, { type: 'GetFilePage', file: 2, index: 1, memcg: 5, kind: 'shmem' });
    const third = handleFrames(s, { type: 'GetFilePage', file: 2, index: 2, memcg: 5, kind: 'shmem' });
    expect(third.reply.evicted.map((e) => [e.page.kind, e.page.index, e.swapSlot])).toEqual([['shmem', 0, 1], ['shmem', 1, 2]]);
    expect(framesFigures(s).shmem).toBe(1);
    const back = handleFrames(s, { type: 'GetFilePage', file: 2, index: 0, memcg: 5, kind: 'shmem' });
    expect(back.reply.majorFaults).toBe(1);
    // shmem_swapin_folio drops the swap entry once the page is back in the page cache.
    const f = framesFigures(s);
    expect(f.swapFree).toBe(f.swapTotal - 1);
    expect(f.events.pswpin).toBe(1);
  });

  it('TruncateFile drops the pages and the swap entries; vm is told which frames to unmap', () => {
    const s = bootFrames(machine(GiB));
    const a = handleFrames(s, { type: 'GetFilePage', file: 9, index: 0, memcg: 0 });
    handleFrames(s, { type: 'GetFilePage', file: 9, index: 600, memcg: 0 });
    const { reply } = handleFrames(s, { type: 'TruncateFile', file: 9 });
    expect(reply.evicted.map((e) => [e.page.index, e.swapSlot])).toEqual([[0, -1], [600, -1]]);
    expect(reply.evicted[0].pfn).toBe(a.reply.pfns[0]);
    expect(framesFigures(s).filePages).toBe(0);
    expect(handleFrames(s, { type: 'GetFilePage', file: 9, index: 0, memcg: 0 }).reply.majorFaults).toBe(1);
  });

  it('drop_caches 1 drops page cache (not shmem), 2 drops reclaimable slab', () => {
    const s = bootFrames(machine(GiB));
    for (let i = 0; i < 5; i++) handleFrames(s, { type: 'GetFilePage', file: 9, index: i, memcg: 0 });
    handleFrames(s, { type: 'GetFilePage', file: 2, index: 0, memcg: 0, kind: 'shmem' });
    handleFrames(s, { type: 'AddKernelPages', kind: 'slab_reclaimable', pages: 8 });
    handleFrames(s, { type: 'AddKernelPages', kind: 'slab_unreclaimable', pages: 3 });
    const one = handleFrames(s, { type: 'DropCaches', mode: 1 });
    expect(one.reply.evicted.length).toBe(5);
    expect(framesFigures(s).filePages).toBe(1);
    handleFrames(s, { type: 'DropCaches', mode: 2 });
    const f = framesFigures(s);
    expect(f.kernel.slab_reclaimable).toBe(0);
    expect(f.kernel.slab_unreclaimable).toBe(3);
    expect([f.events.drop_pagecache, f.events.drop_slab]).toEqual([1, 1]);
  });
});

describe('kernel pages and mlock', () => {
  it('page tables are kernel pages (PageTables); freeing gives them back', () => {
    const s = bootFrames(machine(GiB));
    const free0 = framesFigures(s).free;
    handleFrames(s, { type: 'AddKernelPages', kind: 'pagetable', pages: 10, memcg: 0 });
    expect(framesFigures(s).kernel.pagetable).toBe(10);
    expect(framesFigures(s).free).toBe(free0 - 10);
    handleFrames(s, { type: 'FreeKernelPages', kind: 'pagetable', pages: 10, memcg: 0 });
    expect(framesFigures(s).kernel.pagetable).toBe(0);
    expect(framesFigures(s).free).toBe(free0);
    expect(() => handleFrames(s, { type: 'FreeKernelPages', kind: 'pagetable', pages: 1, memcg: 0 })).toThrow(/fewer than/);
  });

  it('mlocked pages are unevictable and Mlocked; munlock puts them back on the inactive list', () => {
    const s = bootFrames(machine(GiB));
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 3 }], memcg: 0, allowReclaim: true, mlocked: true });
    expect([framesFigures(s).unevictable, framesFigures(s).mlock]).toEqual([3, 3]);
    handleFrames(s, { type: 'MlockPages', pfns: reply.pfns.slice(0, 2), lock: false });
    const f = framesFigures(s);
    expect([f.unevictable, f.mlock, f.inactiveAnon]).toEqual([1, 1, 2]);
    expect([f.events.unevictable_pgs_mlocked, f.events.unevictable_pgs_munlocked]).toEqual([3, 2]);
  });
});

describe('the 2.6.18 profile', () => {
  it('puts new anon pages on the active list (lru_cache_add_active)', () => {
    const s = bootFrames(machine(GiB, 0, 'linux-2.6.18'));
    handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 3 }], memcg: 0, allowReclaim: true });
    const f = framesFigures(s);
    expect([f.activeAnon, f.inactiveAnon]).toEqual([3, 0]);
  });
});
