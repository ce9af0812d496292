// Demand paging, COW, page tables, RSS counters and reclaim, against the rules of mm/memory.c.
import { describe, expect, it } from 'vitest';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import { pteAt, residentPages } from './queries.js';

const MiB = 1 << 20;
const PTE_TABLE = 2 * MiB;

function setup(ramPages = 1 << 20, swap = 1 << 16) {
  const t = new TestMachine(vm, ramPages, swap);
  const pid = t.spawn('prog', { prefault: false });
  return { t, pid };
}

describe('anonymous faults', () => {
  it('a read maps the zero page: resident for mincore, not in RSS, no frame', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 4 * MiB);
    const used = t.frames.used.size;
    const mm0 = t.mm(pid);
    expect(t.touch(pid, [], [{ addr: a, length: 3 * 4096 }])).toEqual({ ok: true });
    expect(pteAt(t.state, pid, a)).toEqual({ kind: 'zero' });
    expect(residentPages(t.state, pid, a, 4 * MiB)).toBe(3);
    expect(t.mm(pid).rssAnon).toBe(mm0.rssAnon);
    // Only the page-table pages came from frames: PTE + PMD + PUD for a fresh area.
    expect(t.frames.used.size - used).toBe(t.mm(pid).ptePages + t.mm(pid).pmdPages + t.mm(pid).pudPages - (mm0.ptePages + mm0.pmdPages + mm0.pudPages));
  });

  it('a write maps a new writable page; writing a zero-page mapping is a COW fault', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: a, length: 4096 }], [{ addr: a + 4096, length: 4096 }]);
    const p = pteAt(t.state, pid, a);
    expect(p.kind === 'present' && p.anon && p.writable).toBe(true);
    const rss = t.mm(pid).rssAnon;
    const cow = t.state.sc.pgfaultCow;
    t.touch(pid, [{ addr: a + 4096, length: 1 }]);
    expect(t.mm(pid).rssAnon).toBe(rss + 1);
    expect(t.state.sc.pgfaultCow).toBe(cow + 1);
  });

  it('counts one minor fault per page, machine-wide (pgfault) and for the task', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    const f0 = t.state.sc.pgfault;
    const task0 = t.state.tasks.get(pid)!.minflt;
    t.touch(pid, [{ addr: a, length: 10 * 4096 }], [{ addr: a + 10 * 4096, length: 5 * 4096 }]);
    expect(t.state.sc.pgfault - f0).toBe(15);
    expect(t.state.tasks.get(pid)!.minflt - task0).toBe(15);
    // Touching again faults nothing.
    t.touch(pid, [{ addr: a, length: 10 * 4096 }], [{ addr: a + 10 * 4096, length: 5 * 4096 }]);
    expect(t.state.sc.pgfault - f0).toBe(15);
  });

  it('a page both read and written counts as written', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: a + 100, length: 10 }], [{ addr: a, length: 8192 }]);
    expect(pteAt(t.state, pid, a).kind).toBe('present');
    expect(pteAt(t.state, pid, a + 4096).kind).toBe('zero');
  });

  it('a store outside any mapping, or to a read-only one, is SIGSEGV: the process dies', () => {
    const { t, pid } = setup();
    const ro = t.mmap(pid, MiB, 1);
    expect(t.touch(pid, [{ addr: ro, length: 1 }])).toEqual({ ok: false, signal: 'SIGSEGV', addr: ro });
    expect(t.state.tasks.has(pid)).toBe(false); // reaped by init
    const { t: t2, pid: p2 } = setup();
    expect(t2.touch(p2, [{ addr: 0x1000000, length: 1 }])).toMatchObject({ ok: false, signal: 'SIGSEGV' });
    // PROT_NONE: even a load.
    const { t: t3, pid: p3 } = setup();
    const none = t3.mmap(p3, MiB, 0);
    expect(t3.touch(p3, [], [{ addr: none, length: 1 }])).toMatchObject({ ok: false, signal: 'SIGSEGV' });
  });
});

describe('page tables (VmPTE)', () => {
  it('the first fault of a process allocates a PUD, a PMD and a PTE page; one PTE table per 2 MiB', () => {
    const { t, pid } = setup();
    expect(t.mm(pid).ptePages + t.mm(pid).pmdPages + t.mm(pid).pudPages).toBe(0); // nothing faulted yet
    const a = t.mmap(pid, 8 * MiB); // 2 MiB aligned (THP alignment)
    expect(a % PTE_TABLE).toBe(0);
    t.touch(pid, [{ addr: a, length: 8 * MiB }]);
    const mm = t.mm(pid);
    expect(mm.ptePages).toBe(4);
    expect(mm.pmdPages).toBe(Math.floor((a + 8 * MiB - 1) / 2 ** 30) - Math.floor(a / 2 ** 30) + 1);
    expect(mm.pudPages).toBe(1);
  });

  it('munmap frees the page tables no VMA uses any more (free_pgtables), madvise(DONTNEED) does not', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 8 * MiB);
    t.touch(pid, [{ addr: a, length: 8 * MiB }]);
    const full = t.mm(pid);
    expect(t.sys(pid, { nr: 'madvise', addr: a, length: 8 * MiB, advice: 4 })).toBe(0);
    expect(t.mm(pid).ptePages).toBe(full.ptePages);
    expect(t.sys(pid, { nr: 'munmap', addr: a + 2 * MiB, length: 4 * MiB })).toBe(0);
    expect(t.mm(pid).ptePages).toBe(full.ptePages - 2);
    // A table partly covered by a remaining VMA stays.
    expect(t.sys(pid, { nr: 'munmap', addr: a, length: MiB })).toBe(0);
    expect(t.mm(pid).ptePages).toBe(full.ptePages - 2);
  });
});

describe('RSS counters', () => {
  it('munmap and MADV_DONTNEED drop RSS; VmHWM keeps the peak', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 4 * MiB);
    const r0 = t.mm(pid).rssAnon;
    t.touch(pid, [{ addr: a, length: 4 * MiB }]);
    expect(t.mm(pid).rssAnon - r0).toBe(1024);
    expect(t.sys(pid, { nr: 'madvise', addr: a, length: MiB, advice: 4 })).toBe(0);
    expect(t.mm(pid).rssAnon - r0).toBe(768);
    expect(pteAt(t.state, pid, a).kind).toBe('none');
    // The next load finds the zero page again.
    t.touch(pid, [], [{ addr: a, length: 1 }]);
    expect(pteAt(t.state, pid, a).kind).toBe('zero');
    expect(t.sys(pid, { nr: 'munmap', addr: a, length: 4 * MiB })).toBe(0);
    expect(t.mm(pid).rssAnon).toBe(r0);
    expect(t.mm(pid).hiwaterRss).toBeGreaterThanOrEqual(r0 + 1024);
  });

  it('frees the frames of unmapped anonymous pages', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 4 * MiB);
    t.touch(pid, [{ addr: a, length: 4 * MiB }]);
    const used = t.frames.used.size;
    t.sys(pid, { nr: 'munmap', addr: a, length: 4 * MiB });
    expect(used - t.frames.used.size).toBe(1024 + 2); // the pages and two PTE tables
  });

  it('MADV_FREE keeps the pages (lazily freeable) until written again', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: a, length: MiB }]);
    const rss = t.mm(pid).rssAnon;
    expect(t.sys(pid, { nr: 'madvise', addr: a, length: MiB, advice: 8 })).toBe(0);
    expect(t.mm(pid).rssAnon).toBe(rss);
    expect(pteAt(t.state, pid, a)).toMatchObject({ kind: 'present', lazy: true });
    t.touch(pid, [{ addr: a, length: 1 }]);
    expect(pteAt(t.state, pid, a)).toMatchObject({ kind: 'present', lazy: false });
  });
});

describe('fork and copy-on-write', () => {
  it('shares private pages read-only; a write by either copies', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: a, length: 2 * 4096 }]);
    const p = pteAt(t.state, pid, a);
    const child = t.handle({ type: 'Fork', pid }).answer as number;
    const pp = pteAt(t.state, pid, a);
    const cp = pteAt(t.state, child, a);
    expect(pp.kind === 'present' && cp.kind === 'present' && p.kind === 'present').toBe(true);
    if (pp.kind !== 'present' || cp.kind !== 'present' || p.kind !== 'present') return;
    expect(cp.pfn).toBe(p.pfn);
    expect(pp.writable).toBe(false);
    expect(cp.writable).toBe(false);
    expect(pp.mapcount).toBe(2);
    // RSS counts the shared page in both.
    expect(t.mm(child).rssAnon).toBeGreaterThanOrEqual(2);
    // The child writes: its own copy; the parent's page is exclusive again.
    t.touch(child, [{ addr: a, length: 1 }]);
    const c2 = pteAt(t.state, child, a);
    expect(c2.kind === 'present' && c2.pfn !== p.pfn && c2.writable).toBe(true);
    const p2 = pteAt(t.state, pid, a);
    expect(p2).toMatchObject({ kind: 'present', pfn: p.pfn, mapcount: 1, writable: false });
    // The parent writes: no copy (it is the only user), the PTE is made writable (reuse).
    const used = t.frames.used.size;
    t.touch(pid, [{ addr: a, length: 1 }]);
    expect(pteAt(t.state, pid, a)).toMatchObject({ kind: 'present', pfn: p.pfn, writable: true });
    expect(t.frames.used.size).toBe(used);
  });

  it('the child has the parent VMAs and page tables for its anonymous memory', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 4 * MiB);
    t.touch(pid, [{ addr: a, length: 4 * MiB }]);
    const child = t.handle({ type: 'Fork', pid }).answer as number;
    expect(t.mm(child).vmas.map((v) => [v.start, v.end])).toEqual(t.mm(pid).vmas.map((v) => [v.start, v.end]));
    expect(t.mm(child).rssAnon).toBe(t.mm(pid).rssAnon);
    expect(t.mm(child).ptePages).toBeGreaterThanOrEqual(2);
    // The child exits: the shared pages stay (the parent maps them).
    const used = t.frames.used.size;
    const c = t.mm(child);
    const tables = c.ptePages + c.pmdPages + c.pudPages;
    t.handle({ type: 'Exit', pid: child });
    expect(pteAt(t.state, pid, a)).toMatchObject({ kind: 'present', mapcount: 1 });
    // Only the child's page tables and its kernel stack (THREAD_SIZE 16 KiB = 4 pages on 6.18)
    // went back: every anonymous page it mapped is still the parent's.
    expect(used - t.frames.used.size).toBe(tables + 4);
  });

  it('CLONE_VM shares the mm; killing one kills the other', () => {
    const { t, pid } = setup();
    const twin = t.handle({ type: 'Fork', pid, shareVm: true }).answer as number;
    expect(t.state.tasks.get(twin)!.mmId).toBe(t.state.tasks.get(pid)!.mmId);
    t.handle({ type: 'Kill', pid });
    expect(t.state.tasks.has(pid)).toBe(false);
    expect(t.state.tasks.has(twin)).toBe(false);
  });
});

describe('reclaim and swap', () => {
  it('an evicted anonymous page becomes a swap entry (in every mm mapping it); touching it swaps it back in (major fault)', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: a, length: 4096 }]);
    const child = t.handle({ type: 'Fork', pid }).answer as number;
    const p = pteAt(t.state, pid, a);
    if (p.kind !== 'present') throw new Error('not present');
    const mm = t.mm(pid);
    const v = mm.vmas.find((x) => x.start <= a && x.end > a)!;
    t.frames.evictNext.push({ pfn: p.pfn, kind: 'anon', owner: mm.anonRoot, index: v.pgoff + (a - v.start) / 4096 });
    const b = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: b, length: 4096 }]); // the allocation that reclaims
    const sp = pteAt(t.state, pid, a);
    const sc = pteAt(t.state, child, a);
    expect(sp.kind).toBe('swap');
    expect(sc).toEqual(sp);
    expect(t.mm(pid).swapEnts).toBe(1);
    expect(t.mm(child).swapEnts).toBe(1);
    if (sp.kind !== 'swap') return;
    // two PTEs hold the slot: frames was told to count the second one
    expect(t.frames.swap.get(sp.slot)?.refs).toBe(2);
    const maj = t.state.sc.pgmajfault;
    t.touch(pid, [], [{ addr: a, length: 1 }]);
    expect(t.state.sc.pgmajfault).toBe(maj + 1);
    expect(pteAt(t.state, pid, a)).toMatchObject({ kind: 'present', anon: true });
    expect(t.mm(pid).swapEnts).toBe(0);
    // The child's fault finds the page in the swap cache: the same frame, now shared.
    t.touch(child, [], [{ addr: a, length: 1 }]);
    const pc = pteAt(t.state, child, a);
    const pp = pteAt(t.state, pid, a);
    expect(pc.kind === 'present' && pp.kind === 'present' && pc.pfn === pp.pfn && pc.mapcount === 2).toBe(true);
    expect(t.frames.swap.has(sp.slot)).toBe(false);
  });

  it('an evicted file page is dropped from every mapping; the next access reads it again', () => {
    const { t, pid } = setup();
    const fd = t.handle({ type: 'CreateFile', path: '/data/f', sizeBytes: MiB }).answer as number;
    const a = t.sys(pid, { nr: 'mmap', addr: 0, length: MiB, prot: 1, flags: 2, fd, offset: 0 });
    t.touch(pid, [], [{ addr: a, length: 4096 }]);
    const p = pteAt(t.state, pid, a);
    if (p.kind !== 'present') throw new Error('not present');
    expect(p.anon).toBe(false);
    expect(t.mm(pid).rssFile).toBe(1);
    t.frames.evictNext.push({ pfn: p.pfn, kind: 'file', owner: fd, index: 0 });
    t.frames.cache.delete(`file:${fd}:0`);
    const b = t.mmap(pid, MiB);
    t.touch(pid, [{ addr: b, length: 4096 }]);
    expect(pteAt(t.state, pid, a).kind).toBe('none');
    expect(t.mm(pid).rssFile).toBe(0);
  });
});

describe('mremap, mprotect, mlock', () => {
  it('mremap moves the PTEs with the VMA (RSS unchanged, the same frames at the new address)', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 2 * MiB);
    t.touch(pid, [{ addr: a, length: 2 * MiB }]);
    const p = pteAt(t.state, pid, a + 4096);
    const rss = t.mm(pid).rssAnon;
    // Block growth in place.
    t.mmap(pid, 4096, 3, 0x32, a + 2 * MiB);
    const b = t.sys(pid, { nr: 'mremap', oldAddr: a, oldSize: 2 * MiB, newSize: 4 * MiB, flags: 1 });
    expect(b).not.toBe(a);
    expect(b % (2 * MiB)).toBe(0); // a 4 MiB anonymous mapping is THP-aligned
    expect(pteAt(t.state, pid, b + 4096)).toEqual(p);
    expect(pteAt(t.state, pid, a + 4096).kind).toBe('none');
    expect(t.mm(pid).rssAnon).toBe(rss);
  });

  it('mremap grows in place when the next VMA leaves room, and shrinks by unmapping the tail', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, MiB);
    // The space just above is free in a fresh top-down layout? make room explicitly.
    t.sys(pid, { nr: 'munmap', addr: a + MiB, length: MiB });
    const hole = t.mm(pid).vmas.every((v) => v.end <= a + MiB || v.start >= a + 2 * MiB);
    if (hole) expect(t.sys(pid, { nr: 'mremap', oldAddr: a, oldSize: MiB, newSize: 2 * MiB, flags: 0 })).toBe(a);
    expect(t.sys(pid, { nr: 'mremap', oldAddr: a, oldSize: hole ? 2 * MiB : MiB, newSize: 4096, flags: 0 })).toBe(a);
    expect(t.mm(pid).vmas.find((v) => v.start === a)?.end).toBe(a + 4096);
  });

  it('mprotect splits a VMA and merges it back', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 16 * 4096);
    const n = t.mm(pid).vmas.length;
    expect(t.sys(pid, { nr: 'mprotect', addr: a + 4 * 4096, length: 4 * 4096, prot: 1 })).toBe(0);
    expect(t.mm(pid).vmas.length).toBe(n + 2);
    expect(t.sys(pid, { nr: 'mprotect', addr: a + 4 * 4096, length: 4 * 4096, prot: 3 })).toBe(0);
    expect(t.mm(pid).vmas.length).toBe(n);
    // A hole: -ENOMEM after the part before it was changed.
    t.sys(pid, { nr: 'munmap', addr: a + 8 * 4096, length: 4096 });
    expect(t.sys(pid, { nr: 'mprotect', addr: a, length: 16 * 4096, prot: 1 })).toBe(-12);
    expect(t.mm(pid).vmas.find((v) => v.start === a)?.flags! & 2).toBe(0);
  });

  it('mlock faults the range in and counts VmLck; RLIMIT_MEMLOCK limits it without CAP_IPC_LOCK', () => {
    const { t, pid } = setup();
    const a = t.mmap(pid, 64 * 4096);
    expect(t.sys(pid, { nr: 'mlock', addr: a, length: 64 * 4096 })).toBe(0);
    expect(t.mm(pid).lockedVm).toBe(64);
    expect(residentPages(t.state, pid, a, 64 * 4096)).toBe(64);
    expect(t.sys(pid, { nr: 'munlock', addr: a, length: 64 * 4096 })).toBe(0);
    expect(t.mm(pid).lockedVm).toBe(0);
    const user = t.spawn('user', { uid: 1000, rlimits: { memlock: 16 * 4096 }, prefault: false });
    const b = t.mmap(user, 64 * 4096);
    expect(t.sys(user, { nr: 'mlock', addr: b, length: 32 * 4096 })).toBe(-12);
    expect(t.sys(user, { nr: 'mlock', addr: b, length: 16 * 4096 })).toBe(0);
  });

  it('MAP_POPULATE faults the mapping in at mmap (writes for private writable memory)', () => {
    const { t, pid } = setup();
    const rss = t.mm(pid).rssAnon;
    t.mmap(pid, 32 * 4096, 3, 0x22 | 0x8000);
    expect(t.mm(pid).rssAnon - rss).toBe(32);
  });
});
