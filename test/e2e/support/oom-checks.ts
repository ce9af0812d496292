// What an OOM run must show, in either mode: the victim is the one the reference rule picks
// from the task list just before the kill, the task list and /proc/meminfo after the kill are
// what the kill implies. Registered as `it` blocks by oomChecks().
import { expect, it } from 'vitest';
import type { TaskInfo } from '@mmsim/proto';
import { LEAK_STEP, parseMeminfo, type OomRun } from './oom-scenario.js';
import { PAGE_SIZE_KB, referenceVictim } from './reference-badness.js';

const kb = (v: bigint | number): number => Number(v);
const byPid = (ts: readonly TaskInfo[], pid: number): TaskInfo => {
  const t = ts.find((x) => x.pid === pid);
  if (!t) throw new Error(`no task ${pid} in the list`);
  return t;
};

/** "Out of memory: Killed process 1003 (batch) total-vm:18888kB, anon-rss:16484kB, ..." */
export function parseKillLine(line: string): Record<string, number | string> {
  const m = /Killed process (\d+) \(([^)]*)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB, UID:(\d+) pgtables:(\d+)kB oom_score_adj:(-?\d+)/.exec(line);
  if (!m) throw new Error(`not a kill line: ${line}`);
  return { pid: Number(m[1]), name: m[2], totalVm: Number(m[3]), anonRss: Number(m[4]), fileRss: Number(m[5]), shmemRss: Number(m[6]), uid: Number(m[7]), pgtables: Number(m[8]), adj: Number(m[9]) };
}

/** totalpages of a global OOM: RAM pages + swap pages, from /proc/meminfo. */
export function totalPagesOf(meminfo: string): number {
  const m = parseMeminfo(meminfo);
  return (m.get('MemTotal')! + m.get('SwapTotal')!) / PAGE_SIZE_KB;
}

export function oomChecks(run: () => OomRun, opts: { scale?: number } = {}): void {
  const stepKb = LEAK_STEP / (opts.scale ?? 1) / 1024;

  it('ps figures add up: VmRSS = RssAnon + RssFile + RssShmem for every task; its mapped file pages are in the page cache', () => {
    for (const t of [...run().tasksBefore, ...run().tasksAfter]) {
      expect(kb(t.vmRssKb), `pid ${t.pid}`).toBe(kb(t.rssAnonKb) + kb(t.rssFileKb) + kb(t.rssShmemKb));
    }
    // A file page a process maps is a page-cache page (reclaim unmaps it before dropping it),
    // so Cached (no shmem, no swap cache, no buffers here) holds at least any one task's RssFile.
    for (const [text, tasks] of [[run().meminfoBefore, run().tasksBefore], [run().meminfoAfter, run().tasksAfter]] as const) {
      const cached = parseMeminfo(text).get('Cached')!;
      for (const t of tasks) expect(kb(t.rssFileKb), `pid ${t.pid} RssFile vs Cached`).toBeLessThanOrEqual(cached);
    }
  });

  it('the OOM killer took the task with the highest badness by the reference rule (computed from ps before the kill)', () => {
    const r = run();
    const totalPages = totalPagesOf(r.meminfoBefore);
    const { victim, ranked } = referenceVictim(r.tasksBefore, totalPages);
    // The figures are from just before the call in which the kill happened: the caller (leaky)
    // grew by at most one step (and a page-table page) before the OOM. The choice is decided
    // only if the winner leads the runner-up by more than that.
    const stepPages = stepKb / PAGE_SIZE_KB;
    expect(ranked[0].points - ranked[1].points, `ranking ${JSON.stringify(ranked)}`).toBeGreaterThan(stepPages + 1);
    // The scenario exercises oom_score_adj: without it, another task would die.
    const noAdj = referenceVictim(r.tasksBefore.map((t) => ({ ...t, oomScoreAdj: t.oomScoreAdj === -1000 ? -1000 : 0 })), totalPages).victim;
    expect(noAdj.pid).not.toBe(victim.pid);

    expect(r.kills).toHaveLength(1);
    const k = r.kills[0];
    expect(k.verdict).toBe('kill');
    expect(k.constraint).toBe('global');
    expect(k.policy).toBe('linux-6.18');
    expect(k.victim).toBe(victim.pid);
    expect(k.victimName).toBe(victim.name);
    expect(k.killed).toEqual([victim.pid]); // single-threaded, no other process shares its mm

    // The kernel's log line names it with the figures ps showed (its anon memory and page
    // tables did not change: it was not the one allocating).
    const before = byPid(r.tasksBefore, victim.pid);
    const line = parseKillLine(k.logLine);
    expect(line.pid).toBe(victim.pid);
    expect(line.name).toBe(before.name);
    expect(line.anonRss).toBe(kb(before.rssAnonKb));
    expect(line.pgtables).toBe(kb(before.vmPteKb));
    expect(line.totalVm).toBe(kb(before.vmSizeKb));
    expect(line.adj).toBe(before.oomScoreAdj);
    expect(line.uid).toBe(before.uid);
  });

  it('after the kill the victim is gone from the task list and every other task is still there', () => {
    const r = run();
    const victim = r.kills[0].victim;
    expect(r.tasksAfter.map((t) => t.pid)).toEqual(r.tasksBefore.map((t) => t.pid).filter((p) => p !== victim));
    const dead = r.allTasksAfter.find((t) => t.pid === victim);
    if (dead) expect(dead.state === 'X' || dead.state === 'Z' || dead.exit !== '', `victim ${JSON.stringify(dead)}`).toBe(true);
    // The others kept their anonymous memory (only the caller grew).
    for (const t of r.tasksAfter) {
      if (t.pid === r.pids.leaky) expect(kb(t.rssAnonKb)).toBeGreaterThan(kb(byPid(r.tasksBefore, t.pid).rssAnonKb));
      else expect(kb(t.rssAnonKb), t.name).toBe(kb(byPid(r.tasksBefore, t.pid).rssAnonKb));
    }
  });

  it('MemFree went up by the victim\'s memory, less what the caller took in the same call', () => {
    const r = run();
    const mb = parseMeminfo(r.meminfoBefore);
    const ma = parseMeminfo(r.meminfoAfter);
    const v = byPid(r.tasksBefore, r.kills[0].victim);
    const cb = byPid(r.tasksBefore, r.pids.leaky);
    const ca = byPid(r.tasksAfter, r.pids.leaky);
    const rise = ma.get('MemFree')! - mb.get('MemFree')!;
    // Roughly: the victim's RSS came back.
    expect(rise).toBeGreaterThan(kb(v.rssAnonKb) - stepKb);
    expect(rise).toBeLessThan(kb(v.vmRssKb) + kb(v.vmPteKb) + stepKb);
    // Exactly: its anonymous pages, page tables and kernel stack (one thread: THREAD_SIZE,
    // 16 kB on x86-64, given back by do_exit) were freed (its file pages are page cache and stay
    // cached), the caller faulted in what it grew by, and reclaim dropped whatever page cache it
    // dropped under the pressure.
    const freed = kb(v.rssAnonKb) + kb(v.vmPteKb) + 16;
    const taken = kb(ca.rssAnonKb) - kb(cb.rssAnonKb) + (kb(ca.vmPteKb) - kb(cb.vmPteKb));
    const cacheDropped = mb.get('Cached')! - ma.get('Cached')!;
    expect(rise, `rise ${rise}, freed ${freed}, taken ${taken}, cache dropped ${cacheDropped}`).toBe(freed - taken + cacheDropped);
  });

  it('AnonPages is the sum of the live tasks\' RssAnon, PageTables of their VmPTE, before and after', () => {
    // No task shares anonymous memory here (no fork, no shmem, no swap, so no swap cache) and
    // kernel threads have no mm: each anonymous page is counted in exactly one RssAnon. The
    // model keeps exact counters (a real kernel's per-CPU rss counters would add a batch of
    // slack per CPU and mm), so the slack is zero. PageTables: user page tables only.
    const r = run();
    for (const [text, tasks] of [[r.meminfoBefore, r.tasksBefore], [r.meminfoAfter, r.tasksAfter]] as const) {
      const m = parseMeminfo(text);
      expect(m.get('AnonPages')).toBe(tasks.reduce((a, t) => a + kb(t.rssAnonKb), 0));
      expect(m.get('PageTables')).toBe(tasks.reduce((a, t) => a + kb(t.vmPteKb), 0));
      expect(m.get('SwapTotal')).toBe(0);
    }
  });
}
