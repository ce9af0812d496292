// A real kernel's OOM report (dmesg / journal text) as the model's input: the "invoked
// oom-killer" header, the "Tasks state" dump of every candidate with the figures badness read,
// the memcg limit, the summary line and the "Killed process" line. oomReportToRequest() turns
// one report into an OomRequest, so the model can re-decide a real OOM (and explain it, or
// what-if it) and be checked against the victim the kernel chose.
import { invalid } from '../../common/index.js';
import type { OomMemcgInfo, OomRequest, OomTask } from '../../contracts/oom.js';
import { oomAdjFromScoreAdj } from '../legacy-adj.js';

export interface OomReportTask {
  readonly pid: number;
  readonly uid: number;
  readonly tgid: number;
  /** Pages. rssAnon/rssFile/rssShmem are printed by 6.x kernels only (null before). */
  readonly totalVm: number;
  readonly rss: number;
  readonly rssAnon: number | null;
  readonly rssFile: number | null;
  readonly rssShmem: number | null;
  readonly pgtablesBytes: number;
  readonly swapEnts: number;
  readonly oomScoreAdj: number;
  readonly name: string;
}

export interface OomReport {
  /** The whole "invoked oom-killer" line. */
  readonly invokedLine: string;
  readonly comm: string;
  readonly gfp: string;
  readonly order: number;
  readonly currentAdj: number;
  /** From the "CPU: n UID: u PID: p Comm: c" line; -1 when absent. */
  readonly currentPid: number;
  readonly constraint: 'CONSTRAINT_NONE' | 'CONSTRAINT_MEMCG' | string;
  /** oom_memcg= of the summary line ('' for a global OOM). */
  readonly oomMemcg: string;
  /** The memcg's "memory: usage N kB, limit M kB"; -1 when absent. */
  readonly memcgLimitKb: number;
  readonly tasks: readonly OomReportTask[];
  /** "oom-kill:constraint=..." */
  readonly summaryLine: string;
  /** "... Killed process ..." lines, in order. */
  readonly killedLines: readonly string[];
  readonly killedPid: number;
}

const stripStamp = (line: string): string => line.replace(/^\[\s*\d+\.\d+\]\s?/, '').replace(/^<\d>/, '');

/** Every OOM report in a kernel log, in order. */
export function parseOomReports(text: string): OomReport[] {
  const lines = text.split('\n').map(stripStamp);
  const reports: OomReport[] = [];
  let i = 0;
  while (i < lines.length) {
    const inv = /^(.*) invoked oom-killer: gfp_mask=(\S+), order=(-?\d+), oom_score_adj=(-?\d+)$/.exec(lines[i]);
    if (!inv) {
      i++;
      continue;
    }
    let currentPid = -1;
    let memcgLimitKb = -1;
    const tasks: OomReportTask[] = [];
    let summaryLine = '';
    const killedLines: string[] = [];
    let columns: string[] | null = null;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (/ invoked oom-killer: /.test(l)) break;
      const cpu = /\bPID: (\d+) Comm: /.exec(l);
      if (cpu && currentPid < 0) currentPid = Number(cpu[1]);
      const lim = /^memory: usage (\d+)kB, limit (\d+)kB/.exec(l);
      if (lim) memcgLimitKb = Number(lim[2]);
      if (/^\[\s*pid\s*\]/.test(l)) {
        columns = l.replace(/^\[\s*pid\s*\]/, 'pid').trim().split(/\s+/);
        continue;
      }
      const row = /^\[\s*(\d+)\]\s+(.*)$/.exec(l);
      if (row && columns) {
        const cells = [row[1], ...row[2].trim().split(/\s+/)];
        const name = cells.slice(columns.length - 1).join(' ');
        const get = (c: string): number | null => {
          const k = columns?.indexOf(c) ?? -1;
          return k < 0 ? null : Number(cells[k]);
        };
        tasks.push({
          pid: get('pid') as number,
          uid: get('uid') as number,
          tgid: get('tgid') as number,
          totalVm: get('total_vm') as number,
          rss: get('rss') as number,
          rssAnon: get('rss_anon'),
          rssFile: get('rss_file'),
          rssShmem: get('rss_shmem'),
          pgtablesBytes: get('pgtables_bytes') ?? 0,
          swapEnts: get('swapents') ?? 0,
          oomScoreAdj: get('oom_score_adj') as number,
          name,
        });
        continue;
      }
      if (l.startsWith('oom-kill:')) summaryLine = l;
      if (/: Killed process \d+ /.test(l)) killedLines.push(l);
      else if (killedLines.length > 0 && !/^Tasks in .* memory\.oom\.group/.test(l) && !/oom_reaper/.test(l)) break;
    }
    const c = /constraint=([A-Z_]+)/.exec(summaryLine);
    const m = /oom_memcg=([^,]*)/.exec(summaryLine);
    const k = killedLines.length ? /Killed process (\d+) /.exec(killedLines[0]) : null;
    reports.push({
      invokedLine: lines[i],
      comm: inv[1],
      gfp: inv[2],
      order: Number(inv[3]),
      currentAdj: Number(inv[4]),
      currentPid,
      constraint: c ? c[1] : '',
      oomMemcg: m ? m[1] : '',
      memcgLimitKb,
      tasks,
      summaryLine,
      killedLines,
      killedPid: k ? Number(k[1]) : -1,
    });
    i = j;
  }
  return reports;
}

export interface ReportRequestOptions {
  /** Global OOMs: totalram + total swap pages (a report does not print them). */
  readonly totalPages?: number;
  /** Total swap pages, for a memcg's min(swap.max, total swap); 0 by default. */
  readonly totalSwapPages?: number;
  /** Pids killed by earlier reports that are still listed: the kernel skipped them (their mm reaped). */
  readonly reapedVictims?: readonly number[];
  readonly nowNs?: number;
}

const MEMCG_ID = 1;

/**
 * One report as an OomRequest: the dumped tasks in dump order (the scan's order), the
 * allocating task, totalpages (memcg: the limit in pages, no swap beyond it unless given).
 */
export function oomReportToRequest(r: OomReport, o: ReportRequestOptions = {}): OomRequest {
  const isMemcg = r.constraint === 'CONSTRAINT_MEMCG';
  let totalPages: number;
  if (isMemcg) {
    if (r.memcgLimitKb < 0) throw invalid('oom.BAD_REPORT', 'a memcg OOM report without its "memory: usage, limit" line');
    totalPages = Math.floor(r.memcgLimitKb / 4) + (o.totalSwapPages ?? 0);
  } else {
    if (o.totalPages === undefined) throw invalid('oom.BAD_REPORT', 'a global OOM report does not print totalpages: pass totalPages');
    totalPages = o.totalPages;
  }
  const reaped = new Set(o.reapedVictims ?? []);
  const tasks: OomTask[] = r.tasks.map((t) => {
    const rssAnon = t.rssAnon ?? t.rss; // before 6.x only the sum is printed
    return {
      pid: t.tgid,
      tgid: t.tgid,
      ppid: 0,
      name: t.name,
      uid: t.uid,
      euid: t.uid,
      capSysAdmin: false,
      capSysResource: false,
      capSysRawio: false,
      nice: 0,
      oomScoreAdj: t.oomScoreAdj,
      oomAdj: oomAdjFromScoreAdj(t.oomScoreAdj),
      isKthread: false,
      inVfork: false,
      exiting: false,
      oomVictim: reaped.has(t.tgid),
      oomOrigin: false,
      utimeTicks: 0,
      stimeTicks: 0,
      startTimeNs: 0,
      memcg: isMemcg ? MEMCG_ID : 0,
      mm: {
        mmId: t.tgid,
        totalVm: t.totalVm,
        rssAnon,
        rssFile: t.rssFile ?? 0,
        rssShmem: t.rssShmem ?? 0,
        swapEnts: t.swapEnts,
        pgtablesBytes: t.pgtablesBytes,
        oomSkip: reaped.has(t.tgid),
      },
      children: [],
      mmSharers: [],
    };
  });
  const memcgs: OomMemcgInfo[] | undefined = isMemcg ? [{ id: MEMCG_ID, parent: 0, oomGroup: false, path: r.oomMemcg }] : undefined;
  return {
    type: 'OutOfMemory',
    trigger: {
      pid: r.currentPid,
      pages: 1 << Math.max(0, r.order),
      order: r.order,
      gfp: r.gfp,
      context: 'kernel-report',
      constraint: isMemcg ? { kind: 'memcg', memcg: MEMCG_ID } : { kind: 'global' },
    },
    totalPages,
    tasks,
    ...(memcgs ? { memcgs } : {}),
    nowNs: o.nowNs ?? 0,
    ...(isMemcg ? {} : { totalRamPages: totalPages - (o.totalSwapPages ?? 0), totalSwapPages: o.totalSwapPages ?? 0 }),
  };
}
