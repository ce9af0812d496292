// fork() with copy-on-write through the API (Fork RPC, then Touch RPCs in parent and child), with
// RSS and faults as the kernel counts them (mm/memory.c do_wp_page, copy_page_range):
//  - the child starts with the parent's anonymous pages mapped (RSS counts them in both) and
//    nothing new allocated;
//  - a write by the child to a shared page is a COW fault: a minor fault, a new page (AnonPages
//    grows), the child's RSS unchanged (one page replaced by another);
//  - the parent writing a page the child already copied finds it exclusive again: a minor fault
//    (do_wp_page reuse), no new page;
//  - the parent writing a page still shared copies it too;
//  - Pss shares every page still mapped by both between them.
// The log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, expectLogReplays, meminfo, MiB, mmap, PAGE, parseProc, readText, spawn, startEmbedded, status, touch, vmstat, type EmbeddedServer } from './support.js';

const SIZE = 8 * MiB;
const PAGES = SIZE / PAGE; // 2048
const PART = 256; // pages written per step (1 MiB)

describe('fork with copy-on-write', () => {
  let srv: EmbeddedServer;
  const r: Record<string, Record<string, number>> = {};
  const faults: Record<string, { minor: number; major: number }> = {};
  let childPid = 0;
  let parentPid = 0;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'fork', { ramBytes: 512 * MiB });
    parentPid = await spawn(c, m, 'parent');
    const a = await mmap(c, m, parentPid, SIZE);
    const w = async (name: string, pid: number, addr: number, pages: number) => {
      const t = await touch(c, m, pid, addr, pages * PAGE, true);
      expect(t.ok).toBe(true);
      faults[name] = { minor: Number(t.minorFaults), major: Number(t.majorFaults) };
    };
    await w('parent fills', parentPid, a, PAGES);
    r.parent0 = await status(c, m, parentPid);
    r.mem0 = await meminfo(c, m);
    r.vm0 = await vmstat(c, m);
    childPid = (await c.vma.fork({ machine: m, pid: parentPid })).child!.pid;
    r.child1 = await status(c, m, childPid);
    r.mem1 = await meminfo(c, m);
    await w('child writes part 1', childPid, a, PART);
    r.child2 = await status(c, m, childPid);
    r.mem2 = await meminfo(c, m);
    await w('parent writes part 1', parentPid, a, PART);
    r.mem3 = await meminfo(c, m);
    await w('parent writes part 2', parentPid, a + PART * PAGE, PART);
    r.mem4 = await meminfo(c, m);
    r.vm4 = await vmstat(c, m);
    r.childRollup = parseProc(await readText(c, m, `/proc/${childPid}/smaps_rollup`));
    r.parentRollup = parseProc(await readText(c, m, `/proc/${parentPid}/smaps_rollup`));
    r.parent4 = await status(c, m, parentPid);
    r.child4 = await status(c, m, childPid);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('the parent fills 8 MiB: one minor fault per page', () => {
    expect(faults['parent fills']).toEqual({ minor: PAGES, major: 0 });
    expect(r.parent0.RssAnon).toBeGreaterThanOrEqual(SIZE / 1024);
  });

  it('after fork the child maps the same anonymous pages: its RssAnon counts them, nothing new is allocated', () => {
    expect(r.child1.RssAnon).toBe(r.parent0.RssAnon);
    expect(r.mem1.AnonPages).toBe(r.mem0.AnonPages);
  });

  it('a child write to a shared page is a COW fault: minor, a new page, the child RSS unchanged', () => {
    expect(faults['child writes part 1']).toEqual({ minor: PART, major: 0 });
    expect(r.mem2.AnonPages - r.mem1.AnonPages).toBe(PART * 4);
    expect(r.child2.RssAnon).toBe(r.child1.RssAnon);
  });

  it('the parent writing pages the child copied reuses them (minor faults, no new page)', () => {
    expect(faults['parent writes part 1']).toEqual({ minor: PART, major: 0 });
    expect(r.mem3.AnonPages).toBe(r.mem2.AnonPages);
  });

  it('the parent writing pages still shared copies them too', () => {
    expect(faults['parent writes part 2']).toEqual({ minor: PART, major: 0 });
    expect(r.mem4.AnonPages - r.mem3.AnonPages).toBe(PART * 4);
    expect(r.vm4.pgfault - r.vm0.pgfault).toBeGreaterThanOrEqual(3 * PART);
  });

  it('Pss splits the pages both still map; Rss counts them whole in each', () => {
    // The child's own pages: the 256 it copied, and the 256 the parent copied away from it (the
    // originals are now the child's alone). Every other anonymous page it has (the region's
    // rest and the program's own data, all inherited) is still mapped by both: half each.
    const privateKb = 2 * PART * 4;
    const sharedKb = r.child4.RssAnon - privateKb;
    expect(sharedKb).toBeGreaterThanOrEqual((PAGES - 2 * PART) * 4);
    expect(r.childRollup.Pss_Anon).toBe(privateKb + sharedKb / 2);
    expect(r.childRollup.Shared_Dirty).toBe(sharedKb);
    expect(r.childRollup.Rss).toBeGreaterThanOrEqual(r.child4.RssAnon);
    expect(r.parent4.RssAnon).toBe(r.parent0.RssAnon);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'fork');
  });
});
