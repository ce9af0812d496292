// vm and the real frames under memory pressure: read(2) into the page cache, reclaim taking
// pages of the very request that faulted them, swap out and back in batches, memory.high,
// MADV_FREE. After each scenario vm's page tables and frames' frames must agree page for page.
import { describe, expect, it } from 'vitest';
import { framesFigures, idxOfPfn, memcgFigures, type FramesState } from '../frames/index.js';
import { handleOf, stateOf, ST_USER } from '../frames/frame-word.js';
import { FullMachine } from './full-machine.js';
import { isPresent, isSwap, pteBits, ptePfn, PTE_ANON } from './page-table.js';
import { testConfig } from './testing.js';
import { pteAt } from './queries.js';
import type { VmCommand, VmState } from './types.js';

const MiB = 1 << 20;
const PAGE = 4096;

const spawn = (fm: FullMachine, name: string, extra: Partial<Extract<VmCommand, { type: 'Spawn' }>> = {}): number => fm.handle({ type: 'Spawn', name, ...extra }).answer as number;
const sys = (fm: FullMachine, pid: number, call: Extract<VmCommand, { type: 'Syscall' }>['call']) => fm.handle({ type: 'Syscall', pid, call }).answer as number;
const mmap = (fm: FullMachine, pid: number, length: number, prot = 3, flags = 0x22, fd = -1) => sys(fm, pid, { nr: 'mmap', addr: 0, length, prot, flags, fd, offset: 0 });
const write = (fm: FullMachine, pid: number, addr: number, length: number) => fm.handle({ type: 'Touch', pid, writes: [{ addr, length }], reads: [] }).answer;
const read = (fm: FullMachine, pid: number, addr: number, length: number) => fm.handle({ type: 'Touch', pid, writes: [], reads: [{ addr, length }] }).answer;
const createFile = (fm: FullMachine, path: string, sizeBytes: number) => fm.handle({ type: 'CreateFile', path, sizeBytes }).answer as number;

/**
 * Every present PTE maps a frame frames has as a user page of the same kind and owner (anon: the
 * family; file: the file), every swap PTE a slot in use; RSS and swap counters are the PTEs.
 */
function agree(s: VmState, f: FramesState): { anon: number; file: number; swap: number } {
  let anon = 0;
  let file = 0;
  let swap = 0;
  for (const mm of s.mms.values()) {
    const pt = s.pts.get(mm.id);
    if (!pt) continue;
    let a = 0;
    let fl = 0;
    let sw = 0;
    for (const v of mm.vmas) {
      if (v.kind === 'special') continue;
      for (let vpn = v.start / PAGE; vpn < v.end / PAGE; vpn++) {
        const t = pt.ptes.get(Math.floor(vpn / 512));
        if (!t) {
          vpn = Math.floor(vpn / 512) * 512 + 511;
          continue;
        }
        const e = t.entries[vpn % 512];
        if (isSwap(e)) sw++;
        else if (isPresent(e)) {
          const i = idxOfPfn(ptePfn(e), f.nFrames);
          expect(stateOf(f.word[i]), `pfn ${ptePfn(e)} mapped at vpn ${vpn} is not a user page in frames`).toBe(ST_USER);
          const h = handleOf(f.word[i]);
          if (pteBits(e) & PTE_ANON) {
            a++;
            expect(f.handleOwner[h]).toBe(mm.anonRoot);
          } else if (v.kind === 'file') {
            fl++;
            expect(f.handleOwner[h], `pfn ${ptePfn(e)} at vpn ${vpn} belongs to another file`).toBe(v.file);
          }
        }
      }
    }
    expect([mm.rssAnon, mm.swapEnts]).toEqual([a, sw]);
    anon += a;
    file += fl;
    swap += sw;
  }
  const ff = framesFigures(f);
  expect(ff.anonPages).toBe(anon);
  expect(ff.swapTotal - ff.swapFree).toBeGreaterThanOrEqual(swap);
  return { anon, file, swap };
}

describe('read(2) (ReadFile)', () => {
  it('fills the page cache, charges the memcg, counts pgpgin but no fault; a second read hits', () => {
    const fm = new FullMachine(testConfig(256));
    fm.handle({ type: 'CreateCgroup', path: '/r' });
    const pid = spawn(fm, 'reader', { cgroup: '/r' });
    const id = createFile(fm, '/data/a', 10 * MiB + 100);
    const before = framesFigures(fm.frames);
    const t0 = fm.state.tasks.get(pid)!;
    const charged0 = memcgFigures(fm.frames, 1)!.current;
    expect(fm.handle({ type: 'ReadFile', pid, file: id, offset: 0, length: 64 * MiB }).answer).toEqual({ ok: true });
    const pages = 2561; // 10 MiB + 100 bytes, up to EOF
    const after = framesFigures(fm.frames);
    expect(after.filePages - before.filePages).toBe(pages);
    expect(after.events.pgpgin - before.events.pgpgin).toBe(pages * 4);
    expect(after.events.pgmajfault_frames).toBe(before.events.pgmajfault_frames);
    expect(memcgFigures(fm.frames, 1)!.current - charged0).toBe(pages);
    const t1 = fm.state.tasks.get(pid)!;
    expect([t1.majflt, t1.minflt]).toEqual([t0.majflt, t0.minflt]);
    expect(fm.state.mms.get(t1.mmId)!.rssFile).toBe(fm.state.mms.get(t0.mmId)!.rssFile);
    // Again: all hits; a read past EOF reads nothing.
    fm.handle({ type: 'ReadFile', pid, file: id, offset: 0, length: 10 * MiB });
    fm.handle({ type: 'ReadFile', pid, file: id, offset: 20 * MiB, length: 4096 });
    expect(framesFigures(fm.frames).events.pgpgin).toBe(after.events.pgpgin);
    expect(framesFigures(fm.frames).activeFile).toBe(2560); // read twice: activated (the last page was read once more: also active)
  });

  it('refuses a file that does not exist', () => {
    const fm = new FullMachine(testConfig(256));
    const pid = spawn(fm, 'reader');
    expect(() => fm.handle({ type: 'ReadFile', pid, file: 999, offset: 0, length: 1 })).toThrow(/no file 999/);
  });
});

describe('reclaim during a request', () => {
  it('a write larger than RAM with swap: pages reclaim took from the same request end as swap entries', () => {
    const fm = new FullMachine(testConfig(128, 256));
    const pid = spawn(fm, 'big');
    const len = 200 * MiB;
    const a = mmap(fm, pid, len);
    expect(write(fm, pid, a, len)).toEqual({ ok: true });
    agree(fm.state, fm.frames);
    const t0 = fm.state.tasks.get(pid)!;
    const mm0 = fm.state.mms.get(t0.mmId)!;
    expect(mm0.rssAnon + mm0.swapEnts).toBeGreaterThanOrEqual(len / PAGE);
    expect(mm0.swapEnts).toBeGreaterThan(0);
    let swapInRange = 0;
    for (let vpn = a / PAGE; vpn < (a + len) / PAGE; vpn++) if (pteAt(fm.state, pid, vpn * PAGE).kind === 'swap') swapInRange++;
    expect(swapInRange).toBeGreaterThan(30000);
    // Reading it all back: swap-ins in batches (SwapInPages); each page read from swap is a major fault.
    const pswpin0 = framesFigures(fm.frames).events.pswpin;
    expect(read(fm, pid, a, len)).toEqual({ ok: true });
    const t1 = fm.state.tasks.get(pid)!;
    const pswpin = framesFigures(fm.frames).events.pswpin - pswpin0;
    expect(pswpin).toBeGreaterThanOrEqual(swapInRange);
    expect(t1.majflt - t0.majflt).toBe(pswpin);
    agree(fm.state, fm.frames);
  }, 60_000);

  it('an eviction of two files one mm maps unmaps both (memory.max shrinking a cgroup)', () => {
    const fm = new FullMachine(testConfig(256));
    fm.handle({ type: 'CreateCgroup', path: '/g' });
    const pid = spawn(fm, 'two', { cgroup: '/g' });
    const fa = createFile(fm, '/data/a', 2 * MiB);
    const fb = createFile(fm, '/data/b', 2 * MiB);
    const a = mmap(fm, pid, 2 * MiB, 1, 0x02, fa);
    const b = mmap(fm, pid, 2 * MiB, 1, 0x02, fb);
    read(fm, pid, a, 2 * MiB);
    read(fm, pid, b, 2 * MiB);
    const before = agree(fm.state, fm.frames).file;
    fm.handle({ type: 'SetCgroupLimit', path: '/g', max: 4 * MiB });
    const after = agree(fm.state, fm.frames).file;
    expect(after).toBeLessThan(before);
  });
});

describe('memory.high', () => {
  it('a process above memory.high is reclaimed (swapped) back to it: no OOM kill, memory.events high counted', () => {
    const fm = new FullMachine(testConfig(256, 256));
    fm.handle({ type: 'CreateCgroup', path: '/h' });
    fm.handle({ type: 'SetCgroupLimit', path: '/h', high: 32 * MiB });
    const pid = spawn(fm, 'grower', { cgroup: '/h' });
    const len = 96 * MiB;
    const a = mmap(fm, pid, len);
    expect(write(fm, pid, a, len)).toEqual({ ok: true });
    const m = memcgFigures(fm.frames, 1)!;
    expect(m.current).toBeLessThanOrEqual(32 * 256 + 64);
    expect(m.events.high).toBeGreaterThan(0);
    expect(fm.state.sc.oomKills).toBe(0);
    const { swap } = agree(fm.state, fm.frames);
    expect(swap).toBeGreaterThanOrEqual(64 * 256 - 64);
  }, 60_000);

  it('writing memory.high below the usage reclaims down to it at once', () => {
    const fm = new FullMachine(testConfig(256, 256));
    fm.handle({ type: 'CreateCgroup', path: '/h' });
    const pid = spawn(fm, 'p', { cgroup: '/h' });
    const a = mmap(fm, pid, 40 * MiB);
    write(fm, pid, a, 40 * MiB);
    fm.handle({ type: 'SetCgroupLimit', path: '/h', high: 16 * MiB });
    expect(memcgFigures(fm.frames, 1)!.current).toBeLessThanOrEqual(16 * 256);
    agree(fm.state, fm.frames);
  });
});

describe('MADV_FREE', () => {
  it('without swap, lazily freed pages are dropped under pressure instead of running the OOM killer', () => {
    const run = (free: boolean) => {
      const fm = new FullMachine(testConfig(256));
      fm.handle({ type: 'CreateCgroup', path: '/f' });
      fm.handle({ type: 'SetCgroupLimit', path: '/f', max: 48 * MiB });
      const pid = spawn(fm, 'cache', { cgroup: '/f' });
      const a = mmap(fm, pid, 32 * MiB);
      write(fm, pid, a, 32 * MiB);
      if (free) expect(sys(fm, pid, { nr: 'madvise', addr: a, length: 32 * MiB, advice: 8 })).toBe(0);
      const b = mmap(fm, pid, 32 * MiB);
      const r = write(fm, pid, b, 32 * MiB);
      return { fm, pid, a, r };
    };
    const kept = run(false);
    expect(kept.r).toMatchObject({ ok: false, signal: 'SIGKILL' });
    const freed = run(true);
    expect(freed.r).toEqual({ ok: true });
    expect(freed.fm.state.sc.oomKills).toBe(0);
    expect(framesFigures(freed.fm.frames).events.pglazyfreed).toBeGreaterThan(0);
    agree(freed.fm.state, freed.fm.frames);
    // A dropped page reads back as zeroes: the next touch faults in the zero page, not a swap-in.
    expect(read(freed.fm, freed.pid, freed.a, PAGE)).toEqual({ ok: true });
  });

  it('a write after MADV_FREE keeps the page (it is dirty again)', () => {
    const fm = new FullMachine(testConfig(256));
    fm.handle({ type: 'CreateCgroup', path: '/f' });
    fm.handle({ type: 'SetCgroupLimit', path: '/f', max: 48 * MiB });
    const pid = spawn(fm, 'p', { cgroup: '/f' });
    const a = mmap(fm, pid, 32 * MiB);
    write(fm, pid, a, 32 * MiB);
    const fileLru = () => framesFigures(fm.frames).inactiveFile + framesFigures(fm.frames).activeFile;
    const cached = fileLru(); // the program's own file pages
    sys(fm, pid, { nr: 'madvise', addr: a, length: 32 * MiB, advice: 8 });
    expect(fileLru()).toBe(cached + 8192);
    write(fm, pid, a, 32 * MiB); // every page redirtied: back on the anon list
    expect(fileLru()).toBe(cached);
    const b = mmap(fm, pid, 32 * MiB);
    expect(write(fm, pid, b, 32 * MiB)).toMatchObject({ ok: false, signal: 'SIGKILL' });
  });
});
