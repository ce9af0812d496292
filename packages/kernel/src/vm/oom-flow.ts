// When frames cannot give a page even after reclaim: the OOM request to oom (every process in
// task-list order with every input of badness), and acting on the verdict (kill, wait, give up,
// panic). mm/oom_kill.c out_of_memory() runs in the faulting task's context in the kernel; here
// vm carries the call because it holds the task list and must free the victim's memory.
import { ask, type Ctx, type Step } from './ctx.js';
import type { AllocConstraint } from '../contracts/frames.js';
import type { OomMemcgInfo, OomRequest, OomTask, OomTrigger, OomVerdict } from '../contracts/oom.js';
import { SIGKILL } from './constants.js';
import { memcgEvent } from './frames-port.js';
import { exitGroup } from './task-exit.js';
import type { Cgroup, Task } from './types.js';
import type { World } from './world.js';
import { legacyOomAdj } from './oom-adj.js';

export type OomOutcome = 'retry' | 'self-killed' | 'wait' | 'none' | 'panic';

/** Above this many OOM rounds in one command, vm stops asking (a policy that never makes progress). */
export const MAX_OOM_ROUNDS = 32;

const bytesToPages = (b: number): number => Math.floor(b / 4096);

/**
 * Who is whose child and who shares which mm, over the thread-group leaders in task-list order:
 * built once per table, so a table of n processes costs O(n), not O(n^2).
 */
export interface ProcessIndex {
  readonly childrenOf: ReadonlyMap<number, readonly number[]>;
  readonly usersOf: ReadonlyMap<number, readonly number[]>;
}

export function processIndex(w: World, procs: readonly Task[] = processes(w)): ProcessIndex {
  const childrenOf = new Map<number, number[]>();
  const usersOf = new Map<number, number[]>();
  for (const c of procs) {
    const kids = childrenOf.get(c.ppid);
    if (kids) kids.push(c.pid);
    else childrenOf.set(c.ppid, [c.pid]);
    if (!c.mmId) continue;
    const users = usersOf.get(c.mmId);
    if (users) users.push(c.pid);
    else usersOf.set(c.mmId, [c.pid]);
  }
  return { childrenOf, usersOf };
}

/** The OomTask of a process (its thread-group leader), as badness() reads it. */
export function oomTaskOf(w: World, t: Task, index: ProcessIndex = processIndex(w)): OomTask {
  const mm = t.mmId ? w.mm(t.mmId) : undefined;
  const children = [...(index.childrenOf.get(t.pid) ?? [])];
  const sharers = mm ? (index.usersOf.get(mm.id) ?? []).filter((p) => w.task(p)?.tgid !== t.tgid) : [];
  return {
    pid: t.pid,
    tgid: t.tgid,
    ppid: t.ppid,
    name: t.name,
    uid: t.uid,
    euid: t.euid,
    capSysAdmin: t.caps.sysAdmin,
    capSysResource: t.caps.sysResource,
    capSysRawio: t.caps.sysRawio,
    nice: t.nice,
    oomScoreAdj: t.oomScoreAdj,
    oomAdj: t.oomAdjWritten ?? legacyOomAdj(t.oomScoreAdj),
    isKthread: t.isKthread,
    inVfork: false,
    exiting: t.state !== 'running' || t.killPending,
    oomVictim: t.oomVictim,
    oomOrigin: false,
    utimeTicks: t.utimeTicks,
    stimeTicks: t.stimeTicks,
    startTimeNs: t.startTimeNs,
    memcg: t.memcg,
    mm: mm
      ? {
          mmId: mm.id,
          totalVm: mm.totalVm,
          rssAnon: mm.rssAnon,
          rssFile: mm.rssFile,
          rssShmem: mm.rssShmem,
          swapEnts: mm.swapEnts,
          pgtablesBytes: (mm.ptePages + mm.pmdPages + mm.pudPages) * 4096,
          oomSkip: mm.oomSkip,
        }
      : null,
    children,
    mmSharers: sharers,
  };
}

/** The cgroups under (and including) `root`, parents first, siblings by id (creation order). */
export function subtree(w: World, root: number): Cgroup[] {
  const all = w.cgroups.values().sort((a, b) => a.id - b.id);
  const out: Cgroup[] = [];
  const inTree = new Set<number>([root]);
  for (const c of all) {
    if (c.id === root || inTree.has(c.parent)) {
      inTree.add(c.id);
      out.push(c);
    }
  }
  return out;
}

const memcgInfo = (c: Cgroup): OomMemcgInfo => ({
  id: c.id,
  parent: c.parent,
  oomGroup: c.oomGroup,
  path: c.path,
  memoryMaxPages: c.max < 0 ? -1 : bytesToPages(c.max),
  swapMaxPages: c.swapMax < 0 ? -1 : bytesToPages(c.swapMax),
});

/** Every process (thread-group leaders and kernel threads), in for_each_process() order. */
export function processes(w: World): Task[] {
  const out: Task[] = [];
  for (const p of w.order) {
    const t = w.task(p);
    if (t && t.pid === t.tgid) out.push(t);
  }
  return out;
}

export function buildOomRequest(w: World, trigger: OomTrigger): OomRequest & { readonly type: 'OutOfMemory' } {
  const m = w.machine;
  const totalRam = m?.totals.totalRamPages ?? 0;
  const totalSwap = m?.totals.totalSwapPages ?? 0;
  let tasks = processes(w);
  const index = processIndex(w, tasks);
  let totalPages = totalRam + totalSwap;
  let memcgs: Cgroup[];
  if (trigger.constraint.kind === 'memcg') {
    memcgs = subtree(w, trigger.constraint.memcg);
    const ids = new Set(memcgs.map((c) => c.id));
    tasks = tasks.filter((t) => ids.has(t.memcg));
    const cg = w.cgroups.get(trigger.constraint.memcg);
    // mem_cgroup_get_max(): memory.max + min(swap.max, total swap).
    const max = cg && cg.max >= 0 ? bytesToPages(cg.max) : totalRam;
    const swapMax = cg && cg.swapMax >= 0 ? bytesToPages(cg.swapMax) : totalSwap;
    totalPages = max + Math.min(swapMax, totalSwap);
  } else memcgs = subtree(w, 0);
  return {
    type: 'OutOfMemory',
    trigger,
    totalPages,
    tasks: tasks.map((t) => oomTaskOf(w, t, index)),
    memcgs: memcgs.map(memcgInfo),
    nowNs: w.sc.clockNs,
    totalRamPages: totalRam,
    totalSwapPages: totalSwap,
  };
}

/** Processes that share an mm with pid's process (CLONE_VM without CLONE_THREAD): they die with it. */
export function mmSharers(w: World, pid: number): number[] {
  const t = w.task(pid);
  if (!t || !t.mmId) return [];
  return processes(w).filter((p) => p.tgid !== t.tgid && p.mmId === t.mmId && !p.isKthread && p.pid !== 1).map((p) => p.pid);
}

/**
 * out_of_memory() for the allocation that failed with `failed`, by `pid`, and what vm did about
 * it: 'retry' (someone was killed; ask frames again), 'self-killed' (the faulting task died),
 * 'wait' (an earlier victim has not gone yet), 'none' (nothing to kill), 'panic'.
 */
export function* outOfMemory(ctx: Ctx, pid: number, failed: AllocConstraint, pages: number, context: string): Step<OomOutcome> {
  ctx.oomRounds++;
  if (ctx.oomRounds > MAX_OOM_ROUNDS) return 'wait';
  const trigger: OomTrigger = { pid, pages, order: 0, gfp: 'GFP_HIGHUSER_MOVABLE', context, constraint: failed };
  const request = buildOomRequest(ctx.w, trigger);
  const verdict = yield* ask<OomVerdict>('oom', request);
  switch (verdict.kind) {
    case 'kill': {
      const killed: number[] = [];
      for (const p of verdict.kill) {
        const t = ctx.w.task(p);
        if (!t || t.pid === 1 || t.isKthread) continue;
        for (const x of [t.tgid, ...mmSharers(ctx.w, t.tgid)]) if (!killed.includes(x)) killed.push(x);
      }
      ctx.emit({ type: 'OomKillApplied', trigger, verdict, killed });
      for (const e of verdict.memcgEvents ?? []) yield* memcgEvent(e.memcg, e.event);
      const victims = verdict.oomVictims ?? [verdict.victim];
      const gone: number[] = [];
      for (const p of killed) {
        const out = yield* exitGroup(ctx, p, 0, SIGKILL, victims.includes(p));
        if (out === 'exited' && victims.includes(p)) gone.push(p);
      }
      for (const p of gone) yield* ask('oom', { type: 'VictimExited', pid: p });
      const self = ctx.w.task(pid);
      return !self || self.state !== 'running' || self.killPending ? 'self-killed' : 'retry';
    }
    case 'wait':
      ctx.emit({ type: 'OomKillApplied', trigger, verdict, killed: [] });
      if (ctx.oomWaited) return 'wait';
      ctx.oomWaited = true;
      return 'retry';
    case 'none':
      ctx.emit({ type: 'OomKillApplied', trigger, verdict, killed: [] });
      for (const e of verdict.memcgEvents ?? []) yield* memcgEvent(e.memcg, e.event);
      return 'none';
    case 'panic':
      ctx.emit({ type: 'OomKillApplied', trigger, verdict, killed: [] });
      ctx.emit({ type: 'MachinePanicked', reason: verdict.reason });
      return 'panic';
  }
}
