// A systemd-oomd-like userspace killer: it watches cgroups, not processes, and kills whole
// cgroups.
//  - Swap rule (ManagedOOMSwap=kill): when more than SwapUsedLimit (90%) of swap is used, kill
//    the candidate cgroup using the most swap.
//  - Pressure rule (ManagedOOMMemoryPressure=kill): when a monitored cgroup's memory pressure
//    (the share of time all its tasks stalled on memory, over a 10 s window, like PSI avg10
//    "full") stays above the limit (60%) for the duration (30 s), kill its descendant cgroup
//    with the highest reclaim (pgscan) rate.
// Pressure is measured from the cumulative stall time vm/frames report per cgroup in each
// Tick; the samples of the window live in the state, recorded by UserspaceKillerPolled.
import type { OomTask, OomTickCgroup, OomTickRequest } from '../../contracts/oom.js';
import type { OomdCgroupWindow, OomdSample, OomdState, OomEvent, UserspaceCandidate } from '../types.js';

const MS = 1_000_000;

/** Appends a sample to a cgroup's window and drops what fell out of it (keeping one baseline sample at or before its start). */
export function advanceWindow(prev: OomdCgroupWindow | undefined, cgroup: number, nowNs: number, stallNs: number, pgscan: number, windowNs: number, aboveSinceNs: number): OomdCgroupWindow {
  const times = prev ? [...prev.times, nowNs] : [nowNs];
  const stalls = prev ? [...prev.stalls, stallNs] : [stallNs];
  const pgscans = prev ? [...prev.pgscans, pgscan] : [pgscan];
  while (times.length >= 2 && times[1] <= nowNs - windowNs) {
    times.shift();
    stalls.shift();
    pgscans.shift();
  }
  return { cgroup, times, stalls, pgscans, aboveSinceNs };
}

/** The full-stall share over the window, basis points (0 until there are two samples). */
export function pressureBp(w: OomdCgroupWindow): number {
  const n = w.times.length;
  if (n < 2) return 0;
  const dt = w.times[n - 1] - w.times[0];
  if (dt <= 0) return 0;
  const bp = Math.floor(((w.stalls[n - 1] - w.stalls[0]) * 10_000) / dt);
  return Math.min(10_000, Math.max(0, bp));
}

/** pgscan per second between the last two samples. */
export function pgscanRate(w: OomdCgroupWindow): number {
  const n = w.times.length;
  if (n < 2) return 0;
  const dt = w.times[n - 1] - w.times[n - 2];
  return dt <= 0 ? 0 : Math.floor(((w.pgscans[n - 1] - w.pgscans[n - 2]) * 1e9) / dt);
}

export function oomdPoll(s: OomdState, tick: OomTickRequest): OomEvent[] {
  const o = s.options;
  const now = tick.nowNs;
  const windowNs = o.pressureWindowMs * MS;
  const tree = cgroupTree(tick.cgroups);
  const monitored = new Set(o.pressureMonitored.map((p) => tree.byPath.get(p)?.id).filter((id): id is number => id !== undefined));
  const prevById = new Map<number, OomdCgroupWindow>();
  for (const w of s.windows) prevById.set(w.cgroup, w);
  const windows = new Map<number, OomdCgroupWindow>();
  const samples: OomdSample[] = [];
  for (const cg of tick.cgroups) {
    const prev = prevById.get(cg.id);
    let w = advanceWindow(prev, cg.id, now, cg.memoryFullStallNs, cg.pgscan, windowNs, -1);
    const bp = pressureBp(w);
    const prevAbove = prev?.aboveSinceNs ?? -1;
    const above = monitored.has(cg.id) && bp > o.memoryPressureLimitBp ? (prevAbove >= 0 ? prevAbove : now) : -1;
    w = { ...w, aboveSinceNs: above };
    windows.set(cg.id, w);
    samples.push({ cgroup: cg.id, stallNs: cg.memoryFullStallNs, pgscan: cg.pgscan, pressureBp: bp, aboveSinceNs: above });
  }
  const events: OomEvent[] = [{ type: 'UserspaceKillerPolled', kind: 'systemd-oomd', nowNs: now, nextPollNs: now + o.intervalMs * MS, samples }];
  if (now < s.quietUntilNs) return events;

  // Swap rule.
  const m = tick.meminfo;
  const swapUsedKb = m.swapTotalKb - m.swapFreeKb;
  if (m.swapTotalKb > 0 && swapUsedKb * 10_000 > m.swapTotalKb * o.swapUsedLimitBp) {
    const roots = o.swapMonitored.map((p) => tree.byPath.get(p)?.id).filter((id): id is number => id !== undefined);
    const ranking = rank(
      leavesUnder(tree, roots).filter((cg) => cg.swapCurrentPages * 4 * 10_000 > m.swapTotalKb * o.swapCandidateMinBp),
      (cg) => cg.swapCurrentPages,
      (cg) => `swap ${cg.swapCurrentPages * 4} kB`,
    );
    if (ranking.length > 0) {
      const line = `Killed ${ranking[0].name} due to swap used (${swapUsedKb * 1024}) / total (${m.swapTotalKb * 1024}) being more than ${fmtBp(o.swapUsedLimitBp)}%`;
      events.push(kill(s, tick, tree, ranking, 'swap-used-above-limit', line));
      return events;
    }
  }
  // Pressure rule.
  for (const id of monitored) {
    const w = windows.get(id) as OomdCgroupWindow;
    if (w.aboveSinceNs < 0 || now - w.aboveSinceNs < o.memoryPressureDurationMs * MS) continue;
    const ranking = rank(
      leavesUnder(tree, [id]).filter((cg) => pgscanRate(windows.get(cg.id) as OomdCgroupWindow) > 0),
      (cg) => pgscanRate(windows.get(cg.id) as OomdCgroupWindow),
      (cg) => `pgscan ${pgscanRate(windows.get(cg.id) as OomdCgroupWindow)}/s`,
    );
    if (ranking.length === 0) continue;
    const path = tree.byId.get(id)?.path ?? '?';
    const line =
      `Killed ${ranking[0].name} due to memory pressure for ${path} being ${fmtBp(pressureBp(w))}% > ${fmtBp(o.memoryPressureLimitBp)}% ` +
      `for > ${Math.floor(o.memoryPressureDurationMs / 1000)}s with reclaim activity`;
    events.push(kill(s, tick, tree, ranking, 'memory-pressure-above-limit', line));
    return events;
  }
  return events;
}

function kill(s: OomdState, tick: OomTickRequest, tree: CgroupTree, ranking: UserspaceCandidate[], reason: string, line: string): OomEvent {
  const target = ranking[0];
  const pids = s.options.dryRun ? [] : tasksUnder(tree, target.cgroup, tick.tasks).map((t) => t.pid);
  return {
    type: 'UserspaceKill',
    kind: 'systemd-oomd',
    nowNs: tick.nowNs,
    signal: 'SIGKILL',
    reason,
    pids,
    cgroup: target.cgroup,
    cgroupPath: target.name,
    ranking: ranking.slice(0, 8),
    dryRun: s.options.dryRun,
    logLines: [s.options.dryRun ? `(dry run) ${line}` : line],
  };
}

/** ManagedOOMPreference: omit never, avoid only when nothing else; then by the measure, first found among equals. */
function rank(cgs: OomTickCgroup[], measure: (cg: OomTickCgroup) => number, detail: (cg: OomTickCgroup) => string): UserspaceCandidate[] {
  const rows = cgs
    .filter((cg) => cg.oomdPreference !== 'omit')
    .map((cg, i) => ({ cg, i, avoid: cg.oomdPreference === 'avoid' ? 1 : 0, m: measure(cg) }));
  rows.sort((a, b) => a.avoid - b.avoid || b.m - a.m || a.i - b.i);
  return rows.map((r) => ({ pid: -1, cgroup: r.cg.id, name: r.cg.path, rank: r.m, detail: detail(r.cg) + (r.avoid ? ' (avoid)' : '') }));
}

interface CgroupTree {
  readonly byId: ReadonlyMap<number, OomTickCgroup>;
  readonly byPath: ReadonlyMap<string, OomTickCgroup>;
  readonly children: ReadonlyMap<number, readonly number[]>;
  readonly order: readonly OomTickCgroup[];
}

function cgroupTree(cgs: readonly OomTickCgroup[]): CgroupTree {
  const byId = new Map<number, OomTickCgroup>();
  const byPath = new Map<string, OomTickCgroup>();
  const children = new Map<number, number[]>();
  for (const cg of cgs) {
    byId.set(cg.id, cg);
    byPath.set(cg.path, cg);
    if (cg.parent === cg.id) continue;
    const list = children.get(cg.parent) ?? [];
    list.push(cg.id);
    children.set(cg.parent, list);
  }
  return { byId, byPath, children, order: cgs };
}

function inSubtree(tree: CgroupTree, id: number, root: number): boolean {
  for (let cur = id, guard = 0; guard < 10_000; guard++) {
    if (cur === root) return true;
    const cg = tree.byId.get(cur);
    if (cg === undefined || cg.parent === cur) return false;
    cur = cg.parent;
  }
  return false;
}

/** Leaf cgroups (no children) of the subtrees, in the Tick's order. */
function leavesUnder(tree: CgroupTree, roots: readonly number[]): OomTickCgroup[] {
  return tree.order.filter((cg) => !(tree.children.get(cg.id)?.length) && roots.some((r) => inSubtree(tree, cg.id, r)));
}

/** Every process of the cgroup's subtree (cgroup.kill): thread-group leaders with an mm, never init. */
function tasksUnder(tree: CgroupTree, root: number, tasks: readonly OomTask[]): OomTask[] {
  return tasks.filter((t) => t.pid === t.tgid && t.pid !== 1 && !t.isKthread && t.mm !== null && inSubtree(tree, t.memcg, root));
}

const fmtBp = (bp: number): string => `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}`;
