// whatIf(): re-decide an OOM under a change (another kernel profile, a task's oom_score_adj,
// a sysctl, a cgroup setting) and say who would die instead, and why. Pure functions over plain
// data: the caller rebuilds the request from a log event (request is recorded in every
// decision event) or from a live machine, and may continue a workload from the new outcome.
import { invalid, isKernelProfile, isRejection, MODEL_VERSION, type KernelProfile } from '../common/index.js';
import type { OomMemcgInfo, OomRequest, OomTask } from '../contracts/oom.js';
import { explainKill, type OomDecisionEvent } from './explain/explain.js';
import { oomAdjFromScoreAdj, scoreAdjFromOomAdj } from './legacy-adj.js';
import { decideOutOfMemory } from './out-of-memory.js';
import { formatPoints } from './points.js';
import type { OomPolicy, Points, VictimRecord } from './types.js';

export interface WhatIfBase {
  readonly request: OomRequest;
  readonly profile: KernelProfile;
  readonly policy: OomPolicy;
  /** Victims of earlier kills not yet gone (the machine's state at the time); none by default. */
  readonly victims?: readonly VictimRecord[];
  readonly killSeq?: number;
  /** For memcg what-ifs: total swap pages (min(swap.max, total swap) is part of a memcg's totalpages). */
  readonly totalRamPages?: number;
  readonly totalSwapPages?: number;
}

/** `memcg` names a cgroup by id or by path. Page counts: -1 = "max". */
export type WhatIfChange =
  | { readonly kind: 'profile'; readonly profile: KernelProfile }
  | { readonly kind: 'adj'; readonly pid: number; readonly oomScoreAdj: number }
  | { readonly kind: 'oom-adj'; readonly pid: number; readonly oomAdj: number }
  | { readonly kind: 'sysctl'; readonly name: 'panic_on_oom' | 'oom_kill_allocating_task'; readonly value: number }
  | { readonly kind: 'memcg'; readonly memcg: number | string; readonly oomGroup?: boolean; readonly memoryMaxPages?: number; readonly swapMaxPages?: number };

export interface WhatIfOutcome {
  readonly kind: 'kill' | 'wait' | 'none' | 'panic' | 'no-oom' | 'rejected';
  /** The chosen task (kill), -1 otherwise. */
  readonly chosen: number;
  readonly chosenName: string;
  readonly chosenPoints: Points | null;
  /** Every pid SIGKILLed, in order. */
  readonly killed: readonly number[];
  /** One sentence. */
  readonly summary: string;
  /** The decision event, for explainKill() and for continuing a run; null for no-oom / rejected. */
  readonly event: OomDecisionEvent | null;
}

export interface WhatIfResult {
  readonly changes: readonly WhatIfChange[];
  readonly before: WhatIfOutcome;
  readonly after: WhatIfOutcome;
  /** The same tasks die (or the same non-kill outcome). */
  readonly same: boolean;
  readonly sentence: string;
}

export function whatIf(base: WhatIfBase, changes: readonly WhatIfChange[]): WhatIfResult {
  const before = outcomeOf(base);
  const changed = applyChanges(base, changes);
  const after = changed.noOom !== null ? noOom(changed.noOom) : outcomeOf(changed.base);
  const same = before.kind === after.kind && before.killed.join() === after.killed.join() && before.chosen === after.chosen;
  const what = changes.map(describeChange).join(', ');
  let sentence: string;
  if (after.kind === 'kill' && before.kind === 'kill' && !same) {
    const b = after.event?.candidates.find((c) => c.pid === before.chosen);
    sentence =
      `With ${what}, ${changed.base.profile} would kill ${who(after)} instead of ${who(before)}: ` +
      `${after.chosenName} scores ${formatPoints(after.chosenPoints)} against ${before.chosenName}'s ` +
      `${b ? `${formatPoints(b.points)}${b.skip ? ` (skipped: ${b.skip})` : ''}` : 'absence'}. ${after.summary}`;
  } else if (same) {
    sentence = `With ${what}, the outcome is the same: ${after.summary}`;
  } else {
    sentence = `With ${what}, instead of "${before.summary}": ${after.summary}`;
  }
  return { changes, before, after, same, sentence };
}

/** what-if from a decision event of the log: its request, profile and policy. */
export function whatIfFromEvent(e: OomDecisionEvent, changes: readonly WhatIfChange[], victims: readonly VictimRecord[] = []): WhatIfResult {
  return whatIf({ request: e.request, profile: e.profile, policy: e.policy, victims }, changes);
}

const who = (o: WhatIfOutcome): string => `pid ${o.chosen} (${o.chosenName})`;

function outcomeOf(b: WhatIfBase): WhatIfOutcome {
  let e: OomDecisionEvent;
  try {
    e = decideOutOfMemory(b.request, {
      profile: b.profile,
      modelVersion: MODEL_VERSION,
      policy: b.policy,
      killSeq: b.killSeq ?? 0,
      victims: b.victims ?? [],
      totalRamPages: b.totalRamPages ?? b.request.totalRamPages ?? 0,
      totalSwapPages: b.totalSwapPages ?? b.request.totalSwapPages ?? 0,
    });
  } catch (err) {
    if (!isRejection(err)) throw err;
    return { kind: 'rejected', chosen: -1, chosenName: '', chosenPoints: null, killed: [], summary: err.message, event: null };
  }
  const why = explainKill(e).why;
  switch (e.type) {
    case 'OomKillDecided': {
      const chosenName = e.candidates.find((c) => c.pid === e.chosen)?.name ?? '';
      return { kind: 'kill', chosen: e.chosen, chosenName, chosenPoints: e.chosenPoints, killed: e.killed.map((k) => k.pid), summary: why, event: e };
    }
    case 'OomNoKill':
      return { kind: e.reason === 'no-candidate' || e.reason === 'costly-order' || e.reason === 'gfp-no-fs' || e.reason === 'chosen-has-no-mm' ? 'none' : 'wait', chosen: -1, chosenName: '', chosenPoints: null, killed: [], summary: why, event: e };
    case 'OomPanicked':
      return { kind: 'panic', chosen: -1, chosenName: '', chosenPoints: null, killed: [], summary: why, event: e };
  }
}

function noOom(reason: string): WhatIfOutcome {
  return { kind: 'no-oom', chosen: -1, chosenName: '', chosenPoints: null, killed: [], summary: reason, event: null };
}

function applyChanges(base: WhatIfBase, changes: readonly WhatIfChange[]): { base: WhatIfBase; noOom: string | null } {
  let profile = base.profile;
  let policy = base.policy;
  let tasks: readonly OomTask[] = base.request.tasks;
  let memcgs: readonly OomMemcgInfo[] | undefined = base.request.memcgs;
  let totalPages = base.request.totalPages;
  let noOomReason: string | null = null;
  const trigger = base.request.trigger;
  const totalSwap = base.totalSwapPages ?? base.request.totalSwapPages ?? 0;
  for (const c of changes) {
    switch (c.kind) {
      case 'profile':
        profile = c.profile;
        break;
      case 'adj': {
        if (!Number.isInteger(c.oomScoreAdj) || c.oomScoreAdj < -1000 || c.oomScoreAdj > 1000) throw invalid('oom.BAD_WHATIF', `oom_score_adj ${c.oomScoreAdj} is outside -1000..1000`);
        tasks = withTask(tasks, c.pid, (t) => ({ ...t, oomScoreAdj: c.oomScoreAdj, oomAdj: oomAdjFromScoreAdj(c.oomScoreAdj) }));
        break;
      }
      case 'oom-adj': {
        if (!Number.isInteger(c.oomAdj) || c.oomAdj < -17 || c.oomAdj > 15) throw invalid('oom.BAD_WHATIF', `oom_adj ${c.oomAdj} is outside -17..15`);
        tasks = withTask(tasks, c.pid, (t) => ({ ...t, oomAdj: c.oomAdj, oomScoreAdj: scoreAdjFromOomAdj(c.oomAdj) }));
        break;
      }
      case 'sysctl':
        if (c.name === 'panic_on_oom') {
          if (c.value !== 0 && c.value !== 1 && c.value !== 2) throw invalid('oom.BAD_WHATIF', `panic_on_oom ${c.value} is not 0, 1 or 2`);
          policy = { ...policy, panicOnOom: c.value };
        } else policy = { ...policy, oomKillAllocatingTask: c.value === 0 ? 0 : 1 };
        break;
      case 'memcg': {
        const list = memcgs ?? [];
        const m = list.find((x) => (typeof c.memcg === 'number' ? x.id === c.memcg : x.path === c.memcg));
        if (m === undefined) throw invalid('oom.BAD_WHATIF', `no cgroup ${String(c.memcg)} in the request`);
        const next: OomMemcgInfo = {
          ...m,
          ...(c.oomGroup !== undefined ? { oomGroup: c.oomGroup } : {}),
          ...(c.memoryMaxPages !== undefined ? { memoryMaxPages: c.memoryMaxPages } : {}),
          ...(c.swapMaxPages !== undefined ? { swapMaxPages: c.swapMaxPages } : {}),
        };
        memcgs = list.map((x) => (x.id === m.id ? next : x));
        // mem_cgroup_get_max(): memory.max + min(memory.swap.max, total swap) of the OOMing cgroup.
        if (trigger.constraint.kind === 'memcg' && trigger.constraint.memcg === m.id && (c.memoryMaxPages !== undefined || c.swapMaxPages !== undefined)) {
          const max = next.memoryMaxPages;
          if (max === undefined) throw invalid('oom.BAD_WHATIF', `the request does not say memory.max of ${m.path}`);
          if (max < 0) noOomReason = `memory.max of ${m.path} is max: this cgroup would not run out of memory here`;
          else {
            const swapMax = next.swapMaxPages === undefined || next.swapMaxPages < 0 ? totalSwap : next.swapMaxPages;
            totalPages = max + Math.min(swapMax, totalSwap);
          }
        }
        break;
      }
    }
  }
  const request: OomRequest = { ...base.request, tasks, totalPages, ...(memcgs ? { memcgs } : {}) };
  return { base: { ...base, profile, policy, request }, noOom: noOomReason };
}

function withTask(tasks: readonly OomTask[], pid: number, f: (t: OomTask) => OomTask): OomTask[] {
  let found = false;
  const out = tasks.map((t) => (t.pid === pid || (t.tgid === pid && t.pid !== pid) ? ((found = true), f(t)) : t));
  if (!found) throw invalid('oom.BAD_WHATIF', `no task ${pid} in the request`);
  return out;
}

export function describeChange(c: WhatIfChange): string {
  switch (c.kind) {
    case 'profile':
      return `kernel profile ${c.profile}`;
    case 'adj':
      return `oom_score_adj ${c.oomScoreAdj} on pid ${c.pid}`;
    case 'oom-adj':
      return `oom_adj ${c.oomAdj} on pid ${c.pid}`;
    case 'sysctl':
      return `vm.${c.name}=${c.value}`;
    case 'memcg': {
      const parts: string[] = [];
      if (c.oomGroup !== undefined) parts.push(`memory.oom.group=${c.oomGroup ? 1 : 0}`);
      if (c.memoryMaxPages !== undefined) parts.push(`memory.max=${c.memoryMaxPages < 0 ? 'max' : `${c.memoryMaxPages} pages`}`);
      if (c.swapMaxPages !== undefined) parts.push(`memory.swap.max=${c.swapMaxPages < 0 ? 'max' : `${c.swapMaxPages} pages`}`);
      return `${parts.join(' ')} on cgroup ${String(c.memcg)}`;
    }
  }
}

/**
 * The command-line spelling of a change:
 *   profile=linux-2.6.18 | adj PID=VALUE | oom_adj PID=VALUE | panic_on_oom=N |
 *   oom_kill_allocating_task=N | memcg ID|PATH memory.oom.group=0|1 | memory.max=PAGES|max | memory.swap.max=PAGES|max
 */
export function parseWhatIfChange(spec: string): WhatIfChange {
  const bad = (): never => {
    throw invalid('oom.BAD_WHATIF', `cannot read the change "${spec}"`);
  };
  const s = spec.trim();
  const int = (x: string): number => (/^-?\d+$/.test(x) ? Number(x) : bad());
  let m = /^profile[= ](\S+)$/.exec(s);
  if (m) return isKernelProfile(m[1]) ? { kind: 'profile', profile: m[1] } : bad();
  m = /^(oom_score_adj|adj|oom_adj)[: ](\d+)=(-?\d+)$/.exec(s);
  if (m) return m[1] === 'oom_adj' ? { kind: 'oom-adj', pid: int(m[2]), oomAdj: int(m[3]) } : { kind: 'adj', pid: int(m[2]), oomScoreAdj: int(m[3]) };
  m = /^(?:sysctl )?(?:vm\.)?(panic_on_oom|oom_kill_allocating_task)=(-?\d+)$/.exec(s);
  if (m) return { kind: 'sysctl', name: m[1] as 'panic_on_oom' | 'oom_kill_allocating_task', value: int(m[2]) };
  m = /^memcg[: ](\S+) (memory\.oom\.group|memory\.max|memory\.swap\.max)=(\S+)$/.exec(s);
  if (m) {
    const memcg = /^\d+$/.test(m[1]) ? Number(m[1]) : m[1];
    if (m[2] === 'memory.oom.group') return m[3] === '0' || m[3] === '1' ? { kind: 'memcg', memcg, oomGroup: m[3] === '1' } : bad();
    const pages = m[3] === 'max' ? -1 : int(m[3]);
    return m[2] === 'memory.max' ? { kind: 'memcg', memcg, memoryMaxPages: pages } : { kind: 'memcg', memcg, swapMaxPages: pages };
  }
  return bad();
}
