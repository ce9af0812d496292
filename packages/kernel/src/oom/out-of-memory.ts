// mm/oom_kill.c: out_of_memory() of each profile, as one pure function from an OomRequest
// and the machine's OOM state to the one event that records the decision. decide() and
// what-if both call it.
import { NS_PER_SEC, invalid, type KernelProfile } from '../common/index.js';
import type { OomMemcgEvent, OomRequest, OomTask } from '../contracts/oom.js';
import { killedProcessLine, killedProcessLine2618, killProcessLine2618, invokedLine, invokedLine2618 } from './log-lines.js';
import { memcgPath, memcgTree, oomGroupOf, ROOT_MEMCG, scanSubtreeTasks, type MemcgTree } from './memcg.js';
import { OOM_SCORE_ADJ_MIN } from './points.js';
import { notScanned, scan2618, scan618, type ScanContext, type ScanResult } from './select-bad-process.js';
import type { KilledTask, OomDecisionBase, OomEvent, OomPolicy, OomVictimMark, VictimRecord } from './types.js';

/** mm/oom_kill.c: OOM_REAPER_DELAY = 2 * HZ. */
export const OOM_REAPER_DELAY_NS = 2 * NS_PER_SEC;
/** include/linux/mmzone.h: PAGE_ALLOC_COSTLY_ORDER; memcg OOM is not invoked above it. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** What out_of_memory() reads besides the request: the machine's OOM state. */
export interface OomDecisionContext {
  readonly profile: KernelProfile;
  readonly modelVersion: number;
  readonly policy: OomPolicy;
  /** Kills decided so far on the machine. */
  readonly killSeq: number;
  /** Victims of earlier decisions whose process has not exited. */
  readonly victims: readonly VictimRecord[];
  /** Fallback for /proc/<pid>/oom_score's totalpages when the request carries no totals. */
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
}

type DecisionEvent = Extract<OomEvent, { type: 'OomKillDecided' | 'OomNoKill' | 'OomPanicked' }>;

export function decideOutOfMemory(req: OomRequest, ctx: OomDecisionContext): DecisionEvent {
  validateRequest(req);
  return ctx.profile === 'linux-2.6.18' ? outOfMemory2618(req, ctx) : outOfMemory618(req, ctx);
}

// ---------------------------------------------------------------------------------------------
// linux-6.18

function outOfMemory618(req: OomRequest, ctx: OomDecisionContext): DecisionEvent {
  const env = makeEnv(req, ctx);
  const { trigger } = req;
  const isMemcg = trigger.constraint.kind === 'memcg';
  const oomMemcg = trigger.constraint.kind === 'memcg' ? trigger.constraint.memcg : ROOT_MEMCG;
  const constraint = isMemcg ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE';
  // constrained_alloc(): a memcg OOM divides by mem_cgroup_get_max() ?: 1
  const totalPages = isMemcg ? req.totalPages || 1 : req.totalPages;
  const memcgEvents: OomMemcgEvent[] = [];
  const lines: string[] = [];
  const current = env.task(trigger.pid);
  const tasks = isMemcg ? scanSubtreeTasks(env.tree, oomMemcg, req.tasks) : req.tasks.filter((t) => t.pid === t.tgid);
  const scanCtx = env.scanContext(totalPages);
  const base = (scan: ScanResult | null): OomDecisionBase => ({
    profile: ctx.profile,
    modelVersion: ctx.modelVersion,
    policy: ctx.policy,
    request: req,
    constraint,
    totalPages,
    // No scan ran (an early return): the table still shows every task, marked not-considered.
    candidates: scan !== null ? scan.candidates : scan618(tasks, scanCtx).candidates.map((c) => ({ ...c, outcome: 'not-considered' as const })),
    memcgEvents,
    logLines: lines,
  });

  if (isMemcg) {
    // mem_cgroup_oom(): costly orders fail the charge without an OOM kill; else MEMCG_OOM.
    if (trigger.order > PAGE_ALLOC_COSTLY_ORDER) {
      return { ...base(null), type: 'OomNoKill', reason: 'costly-order', pid: trigger.pid, marked: null };
    }
    memcgEvents.push({ memcg: oomMemcg, event: 'oom' });
  }
  // task_will_free_mem(current): the allocating task is dying anyway; give it the reserves.
  if (current !== undefined && env.taskWillFreeMem(current)) {
    return { ...base(null), type: 'OomNoKill', reason: 'current-exiting', pid: current.pid, marked: env.mark(current, true) };
  }
  // "The OOM killer does not compensate for IO-less reclaim."
  if (!isMemcg && /\bGFP_NO(FS|IO)\b/.test(trigger.gfp)) {
    return { ...base(null), type: 'OomNoKill', reason: 'gfp-no-fs', pid: trigger.pid, marked: null };
  }
  lines.push(invokedLine(current?.name ?? `pid ${trigger.pid}`, trigger.gfp, trigger.order, current?.oomScoreAdj ?? 0));
  // check_panic_on_oom(): 2 panics on every OOM, 1 only on an unconstrained one.
  if (ctx.policy.panicOnOom === 2 || (ctx.policy.panicOnOom === 1 && !isMemcg)) {
    const message = `Out of memory: ${ctx.policy.panicOnOom === 2 ? 'compulsory' : 'system-wide'} panic_on_oom is enabled`;
    lines.push(`Kernel panic - not syncing: ${message}`);
    return { ...base(null), type: 'OomPanicked', message, reason: 'panic-on-oom' };
  }

  let scan: ScanResult;
  let message: string;
  if (
    !isMemcg && ctx.policy.oomKillAllocatingTask && current !== undefined && current.mm !== null &&
    current.tgid !== 1 && !current.isKthread && current.oomScoreAdj !== OOM_SCORE_ADJ_MIN
  ) {
    scan = notScanned(scan618(req.tasks.filter((t) => t.pid === t.tgid || t.pid === current.pid), scanCtx), current.pid);
    message = 'Out of memory (oom_kill_allocating_task)';
  } else {
    scan = scan618(tasks, scanCtx);
    message = isMemcg ? 'Memory cgroup out of memory' : 'Out of memory';
  }
  if (scan.blockedBy >= 0) {
    return { ...base(scan), type: 'OomNoKill', reason: 'victim-not-reaped', pid: scan.candidates[scan.blockedBy].pid, marked: null };
  }
  if (scan.chosen < 0) {
    lines.push('Out of memory and no killable processes...');
    if (isMemcg) return { ...base(scan), type: 'OomNoKill', reason: 'no-candidate', pid: -1, marked: null };
    lines.push('Kernel panic - not syncing: System is deadlocked on memory');
    return { ...base(scan), type: 'OomPanicked', message: 'System is deadlocked on memory', reason: 'no-killable-task' };
  }
  const chosenCandidate = scan.candidates[scan.chosen];
  const victim = env.task(chosenCandidate.pid) as OomTask;
  // oom_kill_process(): a victim already on its way out is only marked.
  if (env.taskWillFreeMem(victim)) {
    return { ...base(scan), type: 'OomNoKill', reason: 'victim-exiting', pid: victim.pid, marked: env.mark(victim, true) };
  }
  const group = oomGroupOf(env.tree, victim.memcg, oomMemcg);
  lines.push(
    `oom-kill:constraint=${constraint},nodemask=(null),cpuset=/,mems_allowed=0,` +
      `${isMemcg ? `oom_memcg=${memcgPath(env.tree, oomMemcg)}` : 'global_oom'},task_memcg=${memcgPath(env.tree, victim.memcg)},` +
      `task=${victim.name},pid=${victim.pid},uid=${victim.uid}`,
  );
  const kills = new KillSet();
  oomKillProcess618(victim, 'victim', message, env, kills, memcgEvents, lines);
  if (group !== null) {
    memcgEvents.push({ memcg: group.id, event: 'oom_group_kill' });
    lines.push(`Tasks in ${group.path} are going to be killed due to memory.oom.group set`);
    for (const t of scanSubtreeTasks(env.tree, group.id, req.tasks)) {
      if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN || t.tgid === 1) continue; // oom_kill_memcg_member()
      oomKillProcess618(t, 'oom-group', message, env, kills, memcgEvents, lines);
    }
  }
  const reapAt = kills.marks.filter((m) => m.reapAtNs >= 0).map((m) => m.reapAtNs);
  return {
    ...base(scan),
    type: 'OomKillDecided',
    trigger,
    killSeq: ctx.killSeq + 1,
    chosen: chosenCandidate.pid,
    chosenPoints: scan.chosenPoints,
    why: scan.why as NonNullable<ScanResult['why']>,
    killed: kills.killed,
    oomGroup: group === null ? null : { memcg: group.id, path: group.path },
    oomVictims: kills.marks,
    oomKillCount: kills.count,
    reapAfterNs: reapAt.length > 0 ? Math.min(...reapAt) : -1,
  };
}

// mm/oom_kill.c (6.18): __oom_kill_process()
function oomKillProcess618(
  victim: OomTask,
  why: KilledTask['why'],
  message: string,
  env: Env,
  kills: KillSet,
  memcgEvents: OomMemcgEvent[],
  lines: string[],
): void {
  const mm = victim.mm;
  if (mm === null) {
    lines.push(`${message}: OOM victim ${victim.pid} (${victim.name}) is already exiting. Skip killing the task`);
    return;
  }
  kills.count++; // count_vm_event(OOM_KILL)
  memcgEvents.push({ memcg: victim.memcg, event: 'oom_kill' }); // memcg_memory_event_mm(mm, MEMCG_OOM_KILL)
  const k = killedTask(victim, why);
  kills.add(k); // SIGKILL to the thread group
  lines.push(killedProcessLine(message, k));
  // Every other process using the same mm dies too, or the memory would not come back.
  let canReap = true;
  for (const p of env.leaders) {
    if (p.tgid === victim.tgid || !sharesMm(p, victim)) continue;
    if (p.tgid === 1) {
      canReap = false; // MMF_OOM_SKIP: the reaper must not touch init's memory
      lines.push(`oom killer ${victim.pid} (${victim.name}) has mm pinned by ${p.pid} (${p.name})`);
      continue;
    }
    if (p.isKthread) continue; // use_mm() users
    kills.add(killedTask(p, 'shares-mm'));
  }
  kills.mark(victim, canReap ? env.nowNs + OOM_REAPER_DELAY_NS : -1, !canReap);
}

// ---------------------------------------------------------------------------------------------
// linux-2.6.18

function outOfMemory2618(req: OomRequest, ctx: OomDecisionContext): DecisionEvent {
  if (req.trigger.constraint.kind === 'memcg') {
    throw invalid('oom.NO_MEMCG_IN_PROFILE', 'linux-2.6.18 has no memory cgroups: a memcg-constrained OOM cannot happen');
  }
  const env = makeEnv(req, ctx);
  const lines: string[] = [invokedLine2618(req.trigger.gfp, req.trigger.order)];
  const scanCtx = env.scanContext(req.totalPages);
  const scan = scan2618(req.tasks, scanCtx);
  const base = (): OomDecisionBase => ({
    profile: ctx.profile,
    modelVersion: ctx.modelVersion,
    policy: ctx.policy,
    request: req,
    constraint: 'CONSTRAINT_NONE',
    totalPages: req.totalPages,
    candidates: scan.candidates,
    memcgEvents: [],
    logLines: lines,
  });
  // out_of_memory(), CONSTRAINT_NONE: "if (sysctl_panic_on_oom) panic(...)" before any scan.
  if (ctx.policy.panicOnOom !== 0) {
    const message = 'out of memory. panic_on_oom is selected';
    lines.push(`Kernel panic - not syncing: ${message}`);
    return { ...base(), candidates: scan.candidates.map((c) => ({ ...c, outcome: 'not-considered' as const })), type: 'OomPanicked', message, reason: 'panic-on-oom' };
  }
  if (scan.blockedBy >= 0) {
    return { ...base(), type: 'OomNoKill', reason: 'task-releasing-memory', pid: scan.candidates[scan.blockedBy].pid, marked: null };
  }
  if (scan.chosen < 0) {
    const message = 'Out of memory and no killable processes...';
    lines.push(`Kernel panic - not syncing: ${message}`);
    return { ...base(), type: 'OomPanicked', message, reason: 'no-killable-task' };
  }
  const chosen = env.task(scan.candidates[scan.chosen].pid) as OomTask;
  // The score printed is *ppoints: for PF_SWAPOFF, the best seen before it.
  const printed = scan.why?.rule === 'swapoff' ? bestBefore(scan, scan.chosen) : (scan.chosenPoints as number);
  lines.push(killProcessLine2618(chosen.pid, chosen.name, printed));
  const kills = new KillSet();
  // oom_kill_process(): "Try to kill a child first" - any child with a separate mm.
  let killed = false;
  for (const cpid of chosen.children) {
    const c = env.byPid().get(cpid);
    if (c === undefined || sameMm(c, chosen)) continue;
    if (oomKillTask2618(c, 'child', env, kills, lines)) {
      killed = true;
      break;
    }
  }
  if (!killed && !oomKillTask2618(chosen, 'victim', env, kills, lines)) {
    // oom_kill_task() returns 1 for a task without mm; out_of_memory() goes back to retry:
    // and selects the same task again, for ever.
    return { ...base(), type: 'OomNoKill', reason: 'chosen-has-no-mm', pid: chosen.pid, marked: null };
  }
  return {
    ...base(),
    type: 'OomKillDecided',
    trigger: req.trigger,
    killSeq: ctx.killSeq + 1,
    chosen: chosen.pid,
    chosenPoints: scan.chosenPoints,
    why: scan.why as NonNullable<ScanResult['why']>,
    killed: kills.killed,
    oomGroup: null,
    oomVictims: kills.marks,
    oomKillCount: 0, // no oom_kill vmstat counter before 4.13
    reapAfterNs: -1,
  };
}

// mm/oom_kill.c (2.6.18): oom_kill_task(): the task, then every thread of another thread
// group using the same mm. False when the task has no mm (the kernel's "return 1").
function oomKillTask2618(t: OomTask, why: KilledTask['why'], env: Env, kills: KillSet, lines: string[]): boolean {
  const mm = t.mm;
  if (mm === null) return false;
  oomKillTaskOne2618(t, why, kills, lines);
  for (const q of env.tasks) {
    if (q.tgid !== t.tgid && q.mm !== null && q.mm.mmId === mm.mmId) oomKillTaskOne2618(q, 'shares-mm', kills, lines);
  }
  return true;
}

// __oom_kill_task(): refuses init; TIF_MEMDIE and SIGKILL.
function oomKillTaskOne2618(t: OomTask, why: KilledTask['why'], kills: KillSet, lines: string[]): void {
  if (t.pid === 1) {
    lines.push('tried to kill init!');
    return;
  }
  lines.push(killedProcessLine2618('Out of memory', t.pid, t.name));
  kills.add(killedTask(t, why));
  kills.mark(t, -1, false);
}

function bestBefore(scan: ScanResult, index: number): number {
  let best = 0;
  for (let i = 0; i < index; i++) {
    const p = scan.candidates[i].points;
    if (typeof p === 'number' && p > best) best = p;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Shared

interface Env {
  readonly tasks: readonly OomTask[];
  readonly leaders: readonly OomTask[];
  /** Every task by pid, built on first use (2.6.18 reads children through it). */
  byPid(): ReadonlyMap<number, OomTask>;
  /** The first task with this pid (a linear search: a few lookups per decision). */
  task(pid: number): OomTask | undefined;
  readonly tree: MemcgTree;
  readonly nowNs: number;
  scanContext(totalPages: number): ScanContext;
  taskWillFreeMem(t: OomTask): boolean;
  mark(t: OomTask, reapable: boolean): OomVictimMark;
}

function makeEnv(req: OomRequest, ctx: OomDecisionContext): Env {
  let byPidMap: Map<number, OomTask> | null = null;
  const byPid = (): Map<number, OomTask> => {
    if (byPidMap === null) {
      byPidMap = new Map();
      for (const t of req.tasks) if (!byPidMap.has(t.pid)) byPidMap.set(t.pid, t);
    }
    return byPidMap;
  };
  const victims = new Map<number, VictimRecord>();
  for (const v of ctx.victims) victims.set(v.pid, v);
  const leaders = req.tasks.filter((t) => t.pid === t.tgid);
  const globalTotalPages =
    req.totalRamPages !== undefined
      ? req.totalRamPages + (req.totalSwapPages ?? 0)
      : req.trigger.constraint.kind === 'global' || ctx.totalRamPages === 0
        ? req.totalPages
        : ctx.totalRamPages + ctx.totalSwapPages;
  const isVictim = (t: OomTask): boolean => t.oomVictim || victims.has(t.pid);
  const victimReaped = (t: OomTask): boolean => t.mm === null || t.mm.oomSkip || victims.get(t.pid)?.oomSkip === true;
  return {
    tasks: req.tasks,
    leaders,
    byPid,
    task: (pid) => (byPidMap !== null ? byPidMap.get(pid) : req.tasks.find((t) => t.pid === pid)),
    tree: memcgTree(req.memcgs),
    nowNs: req.nowNs,
    scanContext: (totalPages) => ({
      totalPages,
      globalTotalPages,
      nowNs: req.nowNs,
      get byPid() {
        return byPid();
      },
      isVictim,
      victimReaped,
    }),
    // mm/oom_kill.c: task_will_free_mem(): dying, its mm not reaped, and every other user of
    // the mm dying too.
    taskWillFreeMem(t) {
      const mm = t.mm;
      if (mm === null || !t.exiting || mm.oomSkip || victims.get(t.pid)?.oomSkip === true) return false;
      for (const p of leaders) {
        if (p.tgid !== t.tgid && sharesMm(p, t) && !p.exiting) return false;
      }
      return true;
    },
    mark: (t, reapable) => ({
      pid: t.pid,
      tgid: t.tgid,
      name: t.name,
      mmId: t.mm?.mmId ?? -1,
      reapAtNs: reapable ? req.nowNs + OOM_REAPER_DELAY_NS : -1,
      oomSkip: false,
    }),
  };
}

/** The SIGKILLs and victim marks of one decision: each thread group once, in order. */
class KillSet {
  readonly killed: KilledTask[] = [];
  readonly marks: OomVictimMark[] = [];
  count = 0;
  private readonly tgids = new Set<number>();
  private readonly marked = new Set<number>();

  add(k: KilledTask): void {
    if (this.tgids.has(k.tgid)) return;
    this.tgids.add(k.tgid);
    this.killed.push(k);
  }

  mark(t: OomTask, reapAtNs: number, oomSkip: boolean): void {
    if (this.marked.has(t.pid)) return;
    this.marked.add(t.pid);
    this.marks.push({ pid: t.pid, tgid: t.tgid, name: t.name, mmId: t.mm?.mmId ?? -1, reapAtNs, oomSkip });
  }
}

function killedTask(t: OomTask, why: KilledTask['why']): KilledTask {
  const mm = t.mm;
  return {
    pid: t.pid,
    tgid: t.tgid,
    name: t.name,
    uid: t.uid,
    why,
    totalVm: mm?.totalVm ?? 0,
    rssAnon: mm?.rssAnon ?? 0,
    rssFile: mm?.rssFile ?? 0,
    rssShmem: mm?.rssShmem ?? 0,
    pgtablesBytes: mm?.pgtablesBytes ?? 0,
    oomScoreAdj: t.oomScoreAdj,
    mmId: mm?.mmId ?? -1,
    memcg: t.memcg,
  };
}

function sharesMm(p: OomTask, victim: OomTask): boolean {
  if (victim.mm === null) return false;
  if (p.mm !== null && p.mm.mmId === victim.mm.mmId) return true;
  return victim.mmSharers.includes(p.pid);
}

const sameMm = (a: OomTask, b: OomTask): boolean =>
  a.mm === null ? b.mm === null : b.mm !== null && a.mm.mmId === b.mm.mmId;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

function validateRequest(req: OomRequest): void {
  const bad = (what: string): never => {
    throw invalid('oom.BAD_REQUEST', `OutOfMemory: ${what}`);
  };
  if (typeof req !== 'object' || req === null) bad('not an object');
  if (!req.trigger || !isInt(req.trigger.pid) || !isInt(req.trigger.order) || typeof req.trigger.gfp !== 'string') bad('trigger needs pid, order and gfp');
  if (!req.trigger.constraint || (req.trigger.constraint.kind !== 'global' && req.trigger.constraint.kind !== 'memcg')) bad('trigger.constraint.kind is global or memcg');
  if (!isInt(req.totalPages) || req.totalPages < 0) bad(`totalPages ${String(req.totalPages)} is not a page count`);
  if (!isInt(req.nowNs) || req.nowNs < 0) bad('nowNs is not a time');
  if (!Array.isArray(req.tasks)) bad('tasks is not a list');
  for (const t of req.tasks) {
    if (!isInt(t.pid) || !isInt(t.tgid) || typeof t.name !== 'string' || !isInt(t.oomScoreAdj)) bad(`task ${String(t?.pid)} lacks pid/tgid/name/oomScoreAdj`);
    if (t.oomScoreAdj < -1000 || t.oomScoreAdj > 1000) bad(`task ${t.pid}: oom_score_adj ${t.oomScoreAdj} is outside -1000..1000`);
    // 16 is not writable, but /proc/<pid>/oom_adj reads 16 for oom_score_adj 942..999 (adj * 17 / 1000).
    if (!isInt(t.oomAdj) || t.oomAdj < -17 || t.oomAdj > 16) bad(`task ${t.pid}: oom_adj ${t.oomAdj} is outside -17..16`);
    const mm = t.mm;
    if (mm !== null && (!isInt(mm.totalVm) || !isInt(mm.rssAnon) || !isInt(mm.rssFile) || !isInt(mm.rssShmem) || !isInt(mm.swapEnts) || !isInt(mm.pgtablesBytes))) {
      bad(`task ${t.pid}: mm figures must be integers`);
    }
  }
}
