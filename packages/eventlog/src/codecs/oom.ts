// The oom aggregate's event codec: kernel/src/oom/types.ts OomEvent <->
// proto/mmsim/v1/oom_events.proto OomEvent. One case per event type, each field converted
// exactly (scalars.ts); fromProto(toProto(e)) deep-equals e, optional fields included.
// The request, trigger and verdict converters are shared with the vma codec (OomKillApplied).
import {
  isKernelProfile,
  unreachable,
  type KernelProfile,
  type OomMemcgEvent,
  type OomMemcgInfo,
  type OomMmInfo,
  type OomRequest,
  type OomTask,
  type OomTrigger,
  type OomVerdict,
  type OomVerdictDetails,
} from '@mmsim/kernel';
import type {
  BadnessFactors,
  CandidateOutcome,
  KilledTask,
  OomCandidate,
  OomDecisionBase,
  OomEvent,
  OomNoKillReason,
  OomPolicy,
  OomSysctlName,
  OomVictimMark,
  OomdSample,
  Points,
  PointsMarker,
  SkipReason,
  UserspaceCandidate,
  UserspaceKillerKind,
  UserspaceKillerOptions,
  WinReason,
} from '@mmsim/kernel/oom';
import * as pb from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { allocConstraintFromProto, allocConstraintToProto, memcgEventKind } from './frames.js';
import { machineConfigFromProto, machineConfigToProto } from './machine-config.js';
import { EventCodecError, enumMap, need, num, oneOf, oneOfStrings, s32, s64, u32, u32s, u64 } from './scalars.js';

type Msg = pb.OomEvent;

// ---------------------------------------------------------------------------------------------
// Enums

export type SignalName = 'SIGTERM' | 'SIGKILL' | 'SIGSEGV';
export const signal = enumMap<SignalName, pb.Signal>('signal', {
  SIGTERM: pb.Signal.SIGNAL_SIGTERM,
  SIGKILL: pb.Signal.SIGNAL_SIGKILL,
  SIGSEGV: pb.Signal.SIGNAL_SIGSEGV,
});

const killerKind = enumMap<UserspaceKillerKind, pb.UserspaceKillerKind>('userspace killer', {
  earlyoom: pb.UserspaceKillerKind.USERSPACE_KILLER_KIND_EARLYOOM,
  'systemd-oomd': pb.UserspaceKillerKind.USERSPACE_KILLER_KIND_SYSTEMD_OOMD,
});

const verdictKind = enumMap<OomVerdict['kind'], pb.OomVerdictKind>('verdict kind', {
  kill: pb.OomVerdictKind.OOM_VERDICT_KIND_KILL,
  wait: pb.OomVerdictKind.OOM_VERDICT_KIND_WAIT,
  none: pb.OomVerdictKind.OOM_VERDICT_KIND_NONE,
  panic: pb.OomVerdictKind.OOM_VERDICT_KIND_PANIC,
});

const pointsMarker = enumMap<PointsMarker, pb.PointsMarker>('points marker', {
  ULONG_MAX: pb.PointsMarker.POINTS_MARKER_ULONG_MAX,
  LONG_MAX: pb.PointsMarker.POINTS_MARKER_LONG_MAX,
  LONG_MIN: pb.PointsMarker.POINTS_MARKER_LONG_MIN,
});

const candidateOutcome = enumMap<CandidateOutcome, pb.CandidateOutcome>('candidate outcome', {
  victim: pb.CandidateOutcome.CANDIDATE_OUTCOME_VICTIM,
  outscored: pb.CandidateOutcome.CANDIDATE_OUTCOME_OUTSCORED,
  'lost-tie': pb.CandidateOutcome.CANDIDATE_OUTCOME_LOST_TIE,
  skipped: pb.CandidateOutcome.CANDIDATE_OUTCOME_SKIPPED,
  scored: pb.CandidateOutcome.CANDIDATE_OUTCOME_SCORED,
  blocks: pb.CandidateOutcome.CANDIDATE_OUTCOME_BLOCKS,
  'not-reached': pb.CandidateOutcome.CANDIDATE_OUTCOME_NOT_REACHED,
  'not-considered': pb.CandidateOutcome.CANDIDATE_OUTCOME_NOT_CONSIDERED,
});

const skipReason = enumMap<SkipReason, pb.SkipReason>('skip reason', {
  'global-init': pb.SkipReason.SKIP_REASON_GLOBAL_INIT,
  'kernel-thread': pb.SkipReason.SKIP_REASON_KERNEL_THREAD,
  'no-mm': pb.SkipReason.SKIP_REASON_NO_MM,
  'oom-score-adj-min': pb.SkipReason.SKIP_REASON_OOM_SCORE_ADJ_MIN,
  'oom-disable': pb.SkipReason.SKIP_REASON_OOM_DISABLE,
  'mm-oom-skip': pb.SkipReason.SKIP_REASON_MM_OOM_SKIP,
  'in-vfork': pb.SkipReason.SKIP_REASON_IN_VFORK,
  'oom-victim-reaped': pb.SkipReason.SKIP_REASON_OOM_VICTIM_REAPED,
});

const winRule = enumMap<WinReason['rule'], pb.WinRule>('win rule', {
  'highest-points': pb.WinRule.WIN_RULE_HIGHEST_POINTS,
  'tie-later-wins': pb.WinRule.WIN_RULE_TIE_LATER_WINS,
  'tie-first-wins': pb.WinRule.WIN_RULE_TIE_FIRST_WINS,
  'only-candidate': pb.WinRule.WIN_RULE_ONLY_CANDIDATE,
  'oom-task-origin': pb.WinRule.WIN_RULE_OOM_TASK_ORIGIN,
  swapoff: pb.WinRule.WIN_RULE_SWAPOFF,
  'allocating-task': pb.WinRule.WIN_RULE_ALLOCATING_TASK,
});

const killReason = enumMap<KilledTask['why'], pb.KillReason>('kill reason', {
  victim: pb.KillReason.KILL_REASON_VICTIM,
  child: pb.KillReason.KILL_REASON_CHILD,
  'shares-mm': pb.KillReason.KILL_REASON_SHARES_MM,
  'oom-group': pb.KillReason.KILL_REASON_OOM_GROUP,
});

const oomConstraint = enumMap<OomDecisionBase['constraint'], pb.OomConstraint>('oom constraint', {
  CONSTRAINT_NONE: pb.OomConstraint.OOM_CONSTRAINT_NONE,
  CONSTRAINT_MEMCG: pb.OomConstraint.OOM_CONSTRAINT_MEMCG,
});

const noKillReason = enumMap<OomNoKillReason, pb.OomNoKillReason>('no-kill reason', {
  'victim-not-reaped': pb.OomNoKillReason.OOM_NO_KILL_REASON_VICTIM_NOT_REAPED,
  'task-releasing-memory': pb.OomNoKillReason.OOM_NO_KILL_REASON_TASK_RELEASING_MEMORY,
  'current-exiting': pb.OomNoKillReason.OOM_NO_KILL_REASON_CURRENT_EXITING,
  'victim-exiting': pb.OomNoKillReason.OOM_NO_KILL_REASON_VICTIM_EXITING,
  'gfp-no-fs': pb.OomNoKillReason.OOM_NO_KILL_REASON_GFP_NO_FS,
  'costly-order': pb.OomNoKillReason.OOM_NO_KILL_REASON_COSTLY_ORDER,
  'no-candidate': pb.OomNoKillReason.OOM_NO_KILL_REASON_NO_CANDIDATE,
  'chosen-has-no-mm': pb.OomNoKillReason.OOM_NO_KILL_REASON_CHOSEN_HAS_NO_MM,
});

type PanicReason = Extract<OomEvent, { type: 'OomPanicked' }>['reason'];
const panicReason = enumMap<PanicReason, pb.OomPanicReason>('panic reason', {
  'panic-on-oom': pb.OomPanicReason.OOM_PANIC_REASON_PANIC_ON_OOM,
  'no-killable-task': pb.OomPanicReason.OOM_PANIC_REASON_NO_KILLABLE_TASK,
});

type ReapResult = Extract<OomEvent, { type: 'ReaperRan' }>['result'];
const reapResult = enumMap<ReapResult, pb.ReapResult>('reap result', {
  reaped: pb.ReapResult.REAP_RESULT_REAPED,
  busy: pb.ReapResult.REAP_RESULT_BUSY,
  'gave-up': pb.ReapResult.REAP_RESULT_GAVE_UP,
});

const OOM_SYSCTLS: readonly OomSysctlName[] = ['panic_on_oom', 'oom_kill_allocating_task'];
const OOM_MEMCG_EVENTS: readonly OomMemcgEvent['event'][] = ['oom', 'oom_kill', 'oom_group_kill'];

function profileFromProto(p: string): KernelProfile {
  if (!isKernelProfile(p)) throw new EventCodecError(`unknown kernel profile ${JSON.stringify(p)}`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// The request (contracts/oom.ts)

export const triggerToProto = (t: OomTrigger): pb.OomTrigger => ({
  pid: u32(t.pid, 'trigger.pid'),
  pages: u64(t.pages, 'trigger.pages'),
  order: u32(t.order, 'trigger.order'),
  gfp: t.gfp,
  context: t.context,
  constraint: allocConstraintToProto(t.constraint),
});

export const triggerFromProto = (m: pb.OomTrigger | undefined): OomTrigger => {
  const t = need(m, 'trigger');
  return {
    pid: t.pid,
    pages: num(t.pages, 'trigger.pages'),
    order: t.order,
    gfp: t.gfp,
    context: t.context,
    constraint: allocConstraintFromProto(need(t.constraint, 'trigger.constraint')),
  };
};

const mmInfoToProto = (mm: OomMmInfo): pb.OomMmInfo => ({
  mmId: u32(mm.mmId, 'mm.mmId'),
  totalVm: u64(mm.totalVm, 'mm.totalVm'),
  rssAnon: u64(mm.rssAnon, 'mm.rssAnon'),
  rssFile: u64(mm.rssFile, 'mm.rssFile'),
  rssShmem: u64(mm.rssShmem, 'mm.rssShmem'),
  swapEnts: u64(mm.swapEnts, 'mm.swapEnts'),
  pgtablesBytes: u64(mm.pgtablesBytes, 'mm.pgtablesBytes'),
  oomSkip: mm.oomSkip,
});

const mmInfoFromProto = (m: pb.OomMmInfo): OomMmInfo => ({
  mmId: m.mmId,
  totalVm: num(m.totalVm, 'mm.totalVm'),
  rssAnon: num(m.rssAnon, 'mm.rssAnon'),
  rssFile: num(m.rssFile, 'mm.rssFile'),
  rssShmem: num(m.rssShmem, 'mm.rssShmem'),
  swapEnts: num(m.swapEnts, 'mm.swapEnts'),
  pgtablesBytes: num(m.pgtablesBytes, 'mm.pgtablesBytes'),
  oomSkip: m.oomSkip,
});

const taskToProto = (t: OomTask): pb.OomTask => ({
  pid: u32(t.pid, 'task.pid'),
  tgid: u32(t.tgid, 'task.tgid'),
  ppid: u32(t.ppid, 'task.ppid'),
  name: t.name,
  uid: u32(t.uid, 'task.uid'),
  euid: u32(t.euid, 'task.euid'),
  capSysAdmin: t.capSysAdmin,
  capSysResource: t.capSysResource,
  capSysRawio: t.capSysRawio,
  nice: s32(t.nice, 'task.nice'),
  oomScoreAdj: s32(t.oomScoreAdj, 'task.oomScoreAdj'),
  oomAdj: s32(t.oomAdj, 'task.oomAdj'),
  isKthread: t.isKthread,
  inVfork: t.inVfork,
  exiting: t.exiting,
  oomVictim: t.oomVictim,
  oomOrigin: t.oomOrigin,
  utimeTicks: u64(t.utimeTicks, 'task.utimeTicks'),
  stimeTicks: u64(t.stimeTicks, 'task.stimeTicks'),
  startTimeNs: u64(t.startTimeNs, 'task.startTimeNs'),
  memcg: u32(t.memcg, 'task.memcg'),
  mm: t.mm === null ? undefined : mmInfoToProto(t.mm),
  children: u32s(t.children, 'task.children'),
  mmSharers: u32s(t.mmSharers, 'task.mmSharers'),
});

const taskFromProto = (m: pb.OomTask): OomTask => ({
  pid: m.pid,
  tgid: m.tgid,
  ppid: m.ppid,
  name: m.name,
  uid: m.uid,
  euid: m.euid,
  capSysAdmin: m.capSysAdmin,
  capSysResource: m.capSysResource,
  capSysRawio: m.capSysRawio,
  nice: m.nice,
  oomScoreAdj: m.oomScoreAdj,
  oomAdj: m.oomAdj,
  isKthread: m.isKthread,
  inVfork: m.inVfork,
  exiting: m.exiting,
  oomVictim: m.oomVictim,
  oomOrigin: m.oomOrigin,
  utimeTicks: num(m.utimeTicks, 'task.utimeTicks'),
  stimeTicks: num(m.stimeTicks, 'task.stimeTicks'),
  startTimeNs: num(m.startTimeNs, 'task.startTimeNs'),
  memcg: m.memcg,
  mm: m.mm === undefined ? null : mmInfoFromProto(m.mm),
  children: m.children,
  mmSharers: m.mmSharers,
});

const memcgInfoToProto = (c: OomMemcgInfo): pb.OomMemcgInfo => ({
  id: u32(c.id, 'memcg.id'),
  parent: s32(c.parent, 'memcg.parent'),
  oomGroup: c.oomGroup,
  path: c.path,
  memoryMaxPages: c.memoryMaxPages === undefined ? undefined : s64(c.memoryMaxPages, 'memcg.memoryMaxPages'),
  swapMaxPages: c.swapMaxPages === undefined ? undefined : s64(c.swapMaxPages, 'memcg.swapMaxPages'),
});

const memcgInfoFromProto = (m: pb.OomMemcgInfo): OomMemcgInfo => ({
  id: m.id,
  parent: m.parent,
  oomGroup: m.oomGroup,
  path: m.path,
  ...(m.memoryMaxPages === undefined ? {} : { memoryMaxPages: num(m.memoryMaxPages, 'memcg.memoryMaxPages') }),
  ...(m.swapMaxPages === undefined ? {} : { swapMaxPages: num(m.swapMaxPages, 'memcg.swapMaxPages') }),
});

export const requestToProto = (r: OomRequest): pb.OomRequest => ({
  type: r.type,
  trigger: triggerToProto(r.trigger),
  totalPages: u64(r.totalPages, 'request.totalPages'),
  tasks: r.tasks.map(taskToProto),
  memcgs: r.memcgs === undefined ? undefined : { memcgs: r.memcgs.map(memcgInfoToProto) },
  nowNs: u64(r.nowNs, 'request.nowNs'),
  totalRamPages: r.totalRamPages === undefined ? undefined : u64(r.totalRamPages, 'request.totalRamPages'),
  totalSwapPages: r.totalSwapPages === undefined ? undefined : u64(r.totalSwapPages, 'request.totalSwapPages'),
});

export const requestFromProto = (m: pb.OomRequest | undefined): OomRequest => {
  const r = need(m, 'request');
  return {
    ...(r.type === undefined ? {} : { type: oneOfStrings(r.type, ['OutOfMemory'] as const, 'request.type') }),
    trigger: triggerFromProto(r.trigger),
    totalPages: num(r.totalPages, 'request.totalPages'),
    tasks: r.tasks.map(taskFromProto),
    ...(r.memcgs === undefined ? {} : { memcgs: r.memcgs.memcgs.map(memcgInfoFromProto) }),
    nowNs: num(r.nowNs, 'request.nowNs'),
    ...(r.totalRamPages === undefined ? {} : { totalRamPages: num(r.totalRamPages, 'request.totalRamPages') }),
    ...(r.totalSwapPages === undefined ? {} : { totalSwapPages: num(r.totalSwapPages, 'request.totalSwapPages') }),
  };
};

const memcgEventToProto = (e: OomMemcgEvent): pb.OomMemcgEvent => ({ memcg: u32(e.memcg, 'memcgEvent.memcg'), event: memcgEventKind.to(e.event) });
const memcgEventFromProto = (m: pb.OomMemcgEvent): OomMemcgEvent => ({
  memcg: m.memcg,
  event: oneOfStrings(memcgEventKind.from(m.event), OOM_MEMCG_EVENTS, 'memcgEvent.event'),
});

// ---------------------------------------------------------------------------------------------
// The verdict (contracts/oom.ts), recorded by vma's OomKillApplied

export function verdictToProto(v: OomVerdict): pb.OomVerdict {
  const kill = v.kind === 'kill';
  return {
    kind: verdictKind.to(v.kind),
    victim: kill ? u32(v.victim, 'verdict.victim') : 0,
    kill: kill ? u32s(v.kill, 'verdict.kill') : [],
    killSeq: kill ? u32(v.killSeq, 'verdict.killSeq') : 0,
    reason: kill ? '' : v.reason,
    memcgEvents: v.memcgEvents === undefined ? undefined : { events: v.memcgEvents.map(memcgEventToProto) },
    oomVictims: v.oomVictims === undefined ? undefined : { pids: u32s(v.oomVictims, 'verdict.oomVictims') },
    oomKillCount: v.oomKillCount === undefined ? undefined : u32(v.oomKillCount, 'verdict.oomKillCount'),
    logLines: v.logLines === undefined ? undefined : { items: [...v.logLines] },
    reapAfterNs: v.reapAfterNs === undefined ? undefined : s64(v.reapAfterNs, 'verdict.reapAfterNs'),
    chargeFails: v.chargeFails,
  };
}

export function verdictFromProto(m: pb.OomVerdict | undefined): OomVerdict {
  const v = need(m, 'verdict');
  const details: OomVerdictDetails = {
    ...(v.memcgEvents === undefined ? {} : { memcgEvents: v.memcgEvents.events.map(memcgEventFromProto) }),
    ...(v.oomVictims === undefined ? {} : { oomVictims: v.oomVictims.pids }),
    ...(v.oomKillCount === undefined ? {} : { oomKillCount: v.oomKillCount }),
    ...(v.logLines === undefined ? {} : { logLines: v.logLines.items }),
    ...(v.reapAfterNs === undefined ? {} : { reapAfterNs: num(v.reapAfterNs, 'verdict.reapAfterNs') }),
    ...(v.chargeFails === undefined ? {} : { chargeFails: v.chargeFails }),
  };
  const kind = verdictKind.from(v.kind);
  switch (kind) {
    case 'kill':
      return { kind, victim: v.victim, kill: v.kill, killSeq: v.killSeq, ...details };
    case 'wait':
    case 'none':
    case 'panic':
      return { kind, reason: v.reason, ...details };
    default:
      return unreachable(kind, 'verdict kind');
  }
}

// ---------------------------------------------------------------------------------------------
// Policy, userspace killers

const policyToProto = (p: OomPolicy): pb.OomPolicy => ({
  panicOnOom: oneOf(p.panicOnOom, [0, 1, 2], 'panicOnOom'),
  oomKillAllocatingTask: oneOf(p.oomKillAllocatingTask, [0, 1], 'oomKillAllocatingTask'),
});

const policyFromProto = (m: pb.OomPolicy | undefined): OomPolicy => {
  const p = need(m, 'policy');
  return {
    panicOnOom: oneOf(p.panicOnOom, [0, 1, 2] as const, 'panicOnOom'),
    oomKillAllocatingTask: oneOf(p.oomKillAllocatingTask, [0, 1] as const, 'oomKillAllocatingTask'),
  };
};

function killerOptionsToProto(o: UserspaceKillerOptions): pb.UserspaceKillerOptions {
  switch (o.kind) {
    case 'earlyoom':
      return {
        options: {
          $case: 'earlyoom',
          value: {
            memTermPercent: u32(o.memTermPercent, 'memTermPercent'),
            memKillPercent: u32(o.memKillPercent, 'memKillPercent'),
            swapTermPercent: u32(o.swapTermPercent, 'swapTermPercent'),
            swapKillPercent: u32(o.swapKillPercent, 'swapKillPercent'),
            prefer: o.prefer,
            avoid: o.avoid,
            ignore: o.ignore,
            sortByRss: o.sortByRss,
            intervalMs: u32(o.intervalMs, 'intervalMs'),
            dryRun: o.dryRun,
          },
        },
      };
    case 'systemd-oomd':
      return {
        options: {
          $case: 'systemdOomd',
          value: {
            swapUsedLimitBp: u32(o.swapUsedLimitBp, 'swapUsedLimitBp'),
            swapCandidateMinBp: u32(o.swapCandidateMinBp, 'swapCandidateMinBp'),
            memoryPressureLimitBp: u32(o.memoryPressureLimitBp, 'memoryPressureLimitBp'),
            memoryPressureDurationMs: u32(o.memoryPressureDurationMs, 'memoryPressureDurationMs'),
            pressureWindowMs: u32(o.pressureWindowMs, 'pressureWindowMs'),
            intervalMs: u32(o.intervalMs, 'intervalMs'),
            postActionDelayMs: u32(o.postActionDelayMs, 'postActionDelayMs'),
            swapMonitored: [...o.swapMonitored],
            pressureMonitored: [...o.pressureMonitored],
            dryRun: o.dryRun,
          },
        },
      };
    default:
      return unreachable(o, 'userspace killer options');
  }
}

function killerOptionsFromProto(m: pb.UserspaceKillerOptions | undefined): UserspaceKillerOptions {
  const o = need(need(m, 'options').options, 'options.options');
  switch (o.$case) {
    case 'earlyoom': {
      const v = o.value;
      return {
        kind: 'earlyoom',
        memTermPercent: v.memTermPercent,
        memKillPercent: v.memKillPercent,
        swapTermPercent: v.swapTermPercent,
        swapKillPercent: v.swapKillPercent,
        prefer: v.prefer,
        avoid: v.avoid,
        ignore: v.ignore,
        sortByRss: v.sortByRss,
        intervalMs: v.intervalMs,
        dryRun: v.dryRun,
      };
    }
    case 'systemdOomd': {
      const v = o.value;
      return {
        kind: 'systemd-oomd',
        swapUsedLimitBp: v.swapUsedLimitBp,
        swapCandidateMinBp: v.swapCandidateMinBp,
        memoryPressureLimitBp: v.memoryPressureLimitBp,
        memoryPressureDurationMs: v.memoryPressureDurationMs,
        pressureWindowMs: v.pressureWindowMs,
        intervalMs: v.intervalMs,
        postActionDelayMs: v.postActionDelayMs,
        swapMonitored: v.swapMonitored,
        pressureMonitored: v.pressureMonitored,
        dryRun: v.dryRun,
      };
    }
    default:
      return unreachable(o, 'userspace killer options');
  }
}

const sampleToProto = (s: OomdSample): pb.OomdSample => ({
  cgroup: u32(s.cgroup, 'sample.cgroup'),
  stallNs: u64(s.stallNs, 'sample.stallNs'),
  pgscan: u64(s.pgscan, 'sample.pgscan'),
  pressureBp: u32(s.pressureBp, 'sample.pressureBp'),
  aboveSinceNs: s64(s.aboveSinceNs, 'sample.aboveSinceNs'),
});

const sampleFromProto = (m: pb.OomdSample): OomdSample => ({
  cgroup: m.cgroup,
  stallNs: num(m.stallNs, 'sample.stallNs'),
  pgscan: num(m.pgscan, 'sample.pgscan'),
  pressureBp: m.pressureBp,
  aboveSinceNs: num(m.aboveSinceNs, 'sample.aboveSinceNs'),
});

const userspaceCandidateToProto = (c: UserspaceCandidate): pb.UserspaceCandidate => ({
  pid: s32(c.pid, 'ranking.pid'),
  cgroup: s32(c.cgroup, 'ranking.cgroup'),
  name: c.name,
  rank: s64(c.rank, 'ranking.rank'),
  detail: c.detail,
});

const userspaceCandidateFromProto = (m: pb.UserspaceCandidate): UserspaceCandidate => ({
  pid: m.pid,
  cgroup: m.cgroup,
  name: m.name,
  rank: num(m.rank, 'ranking.rank'),
  detail: m.detail,
});

// ---------------------------------------------------------------------------------------------
// The candidate table and the decision

const pointsToProto = (p: Points): pb.Points => ({
  points: typeof p === 'number' ? { $case: 'value', value: s64(p, 'points') } : { $case: 'marker', value: pointsMarker.to(p) },
});

function pointsFromProto(m: pb.Points | undefined): Points {
  const p = need(need(m, 'points').points, 'points.points');
  switch (p.$case) {
    case 'value':
      return num(p.value, 'points');
    case 'marker':
      return pointsMarker.from(p.value);
    default:
      return unreachable(p, 'points');
  }
}

function factorsToProto(f: BadnessFactors): pb.BadnessFactors {
  switch (f.formula) {
    case 'linux-6.18':
      return {
        formula: {
          $case: 'linux618',
          value: {
            rssAnon: u64(f.rssAnon, 'factors.rssAnon'),
            rssFile: u64(f.rssFile, 'factors.rssFile'),
            rssShmem: u64(f.rssShmem, 'factors.rssShmem'),
            swapEnts: u64(f.swapEnts, 'factors.swapEnts'),
            pgtables: u64(f.pgtables, 'factors.pgtables'),
            oomScoreAdj: s32(f.oomScoreAdj, 'factors.oomScoreAdj'),
            adjUnit: u64(f.adjUnit, 'factors.adjUnit'),
          },
        },
      };
    case 'linux-2.6.18':
      return {
        formula: {
          $case: 'linux2618',
          value: {
            totalVm: u64(f.totalVm, 'factors.totalVm'),
            childrenPoints: u64(f.childrenPoints, 'factors.childrenPoints'),
            childrenCounted: u32(f.childrenCounted, 'factors.childrenCounted'),
            cpuTime: u64(f.cpuTime, 'factors.cpuTime'),
            cpuDivisor: u64(f.cpuDivisor, 'factors.cpuDivisor'),
            runTime: u64(f.runTime, 'factors.runTime'),
            runDivisor: u64(f.runDivisor, 'factors.runDivisor'),
            niceDoubled: f.niceDoubled,
            adminQuartered: f.adminQuartered,
            rawioQuartered: f.rawioQuartered,
            oomAdj: s32(f.oomAdj, 'factors.oomAdj'),
          },
        },
      };
    default:
      return unreachable(f, 'badness factors');
  }
}

function factorsFromProto(m: pb.BadnessFactors): BadnessFactors {
  const f = need(m.formula, 'factors.formula');
  switch (f.$case) {
    case 'linux618': {
      const v = f.value;
      return {
        formula: 'linux-6.18',
        rssAnon: num(v.rssAnon, 'factors.rssAnon'),
        rssFile: num(v.rssFile, 'factors.rssFile'),
        rssShmem: num(v.rssShmem, 'factors.rssShmem'),
        swapEnts: num(v.swapEnts, 'factors.swapEnts'),
        pgtables: num(v.pgtables, 'factors.pgtables'),
        oomScoreAdj: v.oomScoreAdj,
        adjUnit: num(v.adjUnit, 'factors.adjUnit'),
      };
    }
    case 'linux2618': {
      const v = f.value;
      return {
        formula: 'linux-2.6.18',
        totalVm: num(v.totalVm, 'factors.totalVm'),
        childrenPoints: num(v.childrenPoints, 'factors.childrenPoints'),
        childrenCounted: v.childrenCounted,
        cpuTime: num(v.cpuTime, 'factors.cpuTime'),
        cpuDivisor: num(v.cpuDivisor, 'factors.cpuDivisor'),
        runTime: num(v.runTime, 'factors.runTime'),
        runDivisor: num(v.runDivisor, 'factors.runDivisor'),
        niceDoubled: v.niceDoubled,
        adminQuartered: v.adminQuartered,
        rawioQuartered: v.rawioQuartered,
        oomAdj: v.oomAdj,
      };
    }
    default:
      return unreachable(f, 'badness factors');
  }
}

const candidateToProto = (c: OomCandidate): pb.OomCandidate => ({
  pid: u32(c.pid, 'candidate.pid'),
  tgid: u32(c.tgid, 'candidate.tgid'),
  name: c.name,
  uid: u32(c.uid, 'candidate.uid'),
  memcg: u32(c.memcg, 'candidate.memcg'),
  factors: c.factors === null ? undefined : factorsToProto(c.factors),
  points: c.points === null ? undefined : pointsToProto(c.points),
  oomScore: s64(c.oomScore, 'candidate.oomScore'),
  outcome: candidateOutcome.to(c.outcome),
  skip: c.skip === null ? pb.SkipReason.SKIP_REASON_UNSPECIFIED : skipReason.to(c.skip),
});

const candidateFromProto = (m: pb.OomCandidate): OomCandidate => ({
  pid: m.pid,
  tgid: m.tgid,
  name: m.name,
  uid: m.uid,
  memcg: m.memcg,
  factors: m.factors === undefined ? null : factorsFromProto(m.factors),
  points: m.points === undefined ? null : pointsFromProto(m.points),
  oomScore: num(m.oomScore, 'candidate.oomScore'),
  outcome: candidateOutcome.from(m.outcome),
  skip: m.skip === pb.SkipReason.SKIP_REASON_UNSPECIFIED ? null : skipReason.from(m.skip),
});

const killedToProto = (k: KilledTask): pb.KilledTask => ({
  pid: u32(k.pid, 'killed.pid'),
  tgid: u32(k.tgid, 'killed.tgid'),
  name: k.name,
  uid: u32(k.uid, 'killed.uid'),
  why: killReason.to(k.why),
  totalVm: u64(k.totalVm, 'killed.totalVm'),
  rssAnon: u64(k.rssAnon, 'killed.rssAnon'),
  rssFile: u64(k.rssFile, 'killed.rssFile'),
  rssShmem: u64(k.rssShmem, 'killed.rssShmem'),
  pgtablesBytes: u64(k.pgtablesBytes, 'killed.pgtablesBytes'),
  oomScoreAdj: s32(k.oomScoreAdj, 'killed.oomScoreAdj'),
  mmId: s32(k.mmId, 'killed.mmId'),
  memcg: u32(k.memcg, 'killed.memcg'),
});

const killedFromProto = (m: pb.KilledTask): KilledTask => ({
  pid: m.pid,
  tgid: m.tgid,
  name: m.name,
  uid: m.uid,
  why: killReason.from(m.why),
  totalVm: num(m.totalVm, 'killed.totalVm'),
  rssAnon: num(m.rssAnon, 'killed.rssAnon'),
  rssFile: num(m.rssFile, 'killed.rssFile'),
  rssShmem: num(m.rssShmem, 'killed.rssShmem'),
  pgtablesBytes: num(m.pgtablesBytes, 'killed.pgtablesBytes'),
  oomScoreAdj: m.oomScoreAdj,
  mmId: m.mmId,
  memcg: m.memcg,
});

const markToProto = (v: OomVictimMark): pb.OomVictimMark => ({
  pid: u32(v.pid, 'mark.pid'),
  tgid: u32(v.tgid, 'mark.tgid'),
  name: v.name,
  mmId: s32(v.mmId, 'mark.mmId'),
  reapAtNs: s64(v.reapAtNs, 'mark.reapAtNs'),
  oomSkip: v.oomSkip,
});

const markFromProto = (m: pb.OomVictimMark): OomVictimMark => ({
  pid: m.pid,
  tgid: m.tgid,
  name: m.name,
  mmId: m.mmId,
  reapAtNs: num(m.reapAtNs, 'mark.reapAtNs'),
  oomSkip: m.oomSkip,
});

const decisionToProto = (d: OomDecisionBase): pb.OomDecision => ({
  profile: d.profile,
  modelVersion: u32(d.modelVersion, 'modelVersion'),
  policy: policyToProto(d.policy),
  request: requestToProto(d.request),
  constraint: oomConstraint.to(d.constraint),
  totalPages: u64(d.totalPages, 'totalPages'),
  candidates: d.candidates.map(candidateToProto),
  memcgEvents: d.memcgEvents.map(memcgEventToProto),
  logLines: [...d.logLines],
});

function decisionFromProto(m: pb.OomDecision | undefined): OomDecisionBase {
  const d = need(m, 'decision');
  return {
    profile: profileFromProto(d.profile),
    modelVersion: d.modelVersion,
    policy: policyFromProto(d.policy),
    request: requestFromProto(d.request),
    constraint: oomConstraint.from(d.constraint),
    totalPages: num(d.totalPages, 'totalPages'),
    candidates: d.candidates.map(candidateFromProto),
    memcgEvents: d.memcgEvents.map(memcgEventFromProto),
    logLines: d.logLines,
  };
}

// ---------------------------------------------------------------------------------------------
// Events

type Ev<T extends OomEvent['type']> = Extract<OomEvent, { type: T }>;

function toProto(e: OomEvent): Msg {
  switch (e.type) {
    case 'OomInitialized':
      return {
        event: {
          $case: 'oomInitialized',
          value: {
            config: machineConfigToProto(e.config),
            modelVersion: u32(e.modelVersion, 'modelVersion'),
            policy: policyToProto(e.policy),
            totalRamPages: u64(e.totalRamPages, 'totalRamPages'),
            totalSwapPages: u64(e.totalSwapPages, 'totalSwapPages'),
          },
        },
      };
    case 'PolicySet':
      return { event: { $case: 'policySet', value: { policy: policyToProto(e.policy), sysctl: e.sysctl ?? undefined } } };
    case 'UserspaceKillerEnabled':
      return { event: { $case: 'userspaceKillerEnabled', value: { options: killerOptionsToProto(e.options) } } };
    case 'UserspaceKillerDisabled':
      return { event: { $case: 'userspaceKillerDisabled', value: { kind: killerKind.to(e.kind) } } };
    case 'OomKillDecided':
      return {
        event: {
          $case: 'oomKillDecided',
          value: {
            decision: decisionToProto(e),
            trigger: triggerToProto(e.trigger),
            killSeq: u32(e.killSeq, 'killSeq'),
            chosen: u32(e.chosen, 'chosen'),
            chosenPoints: pointsToProto(e.chosenPoints),
            why: {
              rule: winRule.to(e.why.rule),
              tiedWith: u32s(e.why.tiedWith, 'why.tiedWith'),
              runnerUp: e.why.runnerUp === null ? undefined : u32(e.why.runnerUp, 'why.runnerUp'),
            },
            killed: e.killed.map(killedToProto),
            oomGroup: e.oomGroup === null ? undefined : { memcg: u32(e.oomGroup.memcg, 'oomGroup.memcg'), path: e.oomGroup.path },
            oomVictims: e.oomVictims.map(markToProto),
            oomKillCount: u32(e.oomKillCount, 'oomKillCount'),
            reapAfterNs: s64(e.reapAfterNs, 'reapAfterNs'),
          },
        },
      };
    case 'OomNoKill':
      return {
        event: {
          $case: 'oomNoKill',
          value: {
            decision: decisionToProto(e),
            reason: noKillReason.to(e.reason),
            pid: s32(e.pid, 'pid'),
            marked: e.marked === null ? undefined : markToProto(e.marked),
          },
        },
      };
    case 'OomPanicked':
      return { event: { $case: 'oomPanicked', value: { decision: decisionToProto(e), message: e.message, reason: panicReason.to(e.reason) } } };
    case 'ReaperRan':
      return {
        event: {
          $case: 'reaperRan',
          value: {
            nowNs: u64(e.nowNs, 'nowNs'),
            pid: u32(e.pid, 'pid'),
            mmId: s32(e.mmId, 'mmId'),
            attempt: u32(e.attempt, 'attempt'),
            result: reapResult.to(e.result),
            nextAttemptNs: s64(e.nextAttemptNs, 'nextAttemptNs'),
            logLines: [...e.logLines],
          },
        },
      };
    case 'UserspaceKillerPolled':
      return {
        event: {
          $case: 'userspaceKillerPolled',
          value: {
            kind: killerKind.to(e.kind),
            nowNs: u64(e.nowNs, 'nowNs'),
            nextPollNs: u64(e.nextPollNs, 'nextPollNs'),
            samples: e.samples.map(sampleToProto),
          },
        },
      };
    case 'UserspaceKill':
      return {
        event: {
          $case: 'userspaceKill',
          value: {
            kind: killerKind.to(e.kind),
            nowNs: u64(e.nowNs, 'nowNs'),
            signal: signal.to(e.signal),
            reason: e.reason,
            pids: u32s(e.pids, 'pids'),
            cgroup: s32(e.cgroup, 'cgroup'),
            cgroupPath: e.cgroupPath,
            ranking: e.ranking.map(userspaceCandidateToProto),
            dryRun: e.dryRun,
            logLines: [...e.logLines],
          },
        },
      };
    case 'VictimExited':
      return { event: { $case: 'victimExited', value: { pid: u32(e.pid, 'pid') } } };
    case 'VictimReaped':
      return { event: { $case: 'victimReaped', value: { pid: u32(e.pid, 'pid') } } };
    default:
      return unreachable(e, 'oom event');
  }
}

function fromProto(m: Msg): OomEvent {
  const ev = need(m.event, 'OomEvent.event');
  switch (ev.$case) {
    case 'oomInitialized': {
      const v = ev.value;
      return {
        type: 'OomInitialized',
        config: machineConfigFromProto(need(v.config, 'config')),
        modelVersion: v.modelVersion,
        policy: policyFromProto(v.policy),
        totalRamPages: num(v.totalRamPages, 'totalRamPages'),
        totalSwapPages: num(v.totalSwapPages, 'totalSwapPages'),
      } satisfies Ev<'OomInitialized'>;
    }
    case 'policySet': {
      const v = ev.value;
      return {
        type: 'PolicySet',
        policy: policyFromProto(v.policy),
        sysctl: v.sysctl === undefined ? null : oneOfStrings(v.sysctl, OOM_SYSCTLS, 'sysctl'),
      } satisfies Ev<'PolicySet'>;
    }
    case 'userspaceKillerEnabled':
      return { type: 'UserspaceKillerEnabled', options: killerOptionsFromProto(ev.value.options) } satisfies Ev<'UserspaceKillerEnabled'>;
    case 'userspaceKillerDisabled':
      return { type: 'UserspaceKillerDisabled', kind: killerKind.from(ev.value.kind) } satisfies Ev<'UserspaceKillerDisabled'>;
    case 'oomKillDecided': {
      const v = ev.value;
      const why = need(v.why, 'why');
      return {
        ...decisionFromProto(v.decision),
        type: 'OomKillDecided',
        trigger: triggerFromProto(v.trigger),
        killSeq: v.killSeq,
        chosen: v.chosen,
        chosenPoints: pointsFromProto(v.chosenPoints),
        why: { rule: winRule.from(why.rule), tiedWith: why.tiedWith, runnerUp: why.runnerUp ?? null },
        killed: v.killed.map(killedFromProto),
        oomGroup: v.oomGroup === undefined ? null : { memcg: v.oomGroup.memcg, path: v.oomGroup.path },
        oomVictims: v.oomVictims.map(markFromProto),
        oomKillCount: v.oomKillCount,
        reapAfterNs: num(v.reapAfterNs, 'reapAfterNs'),
      } satisfies Ev<'OomKillDecided'>;
    }
    case 'oomNoKill': {
      const v = ev.value;
      return {
        ...decisionFromProto(v.decision),
        type: 'OomNoKill',
        reason: noKillReason.from(v.reason),
        pid: v.pid,
        marked: v.marked === undefined ? null : markFromProto(v.marked),
      } satisfies Ev<'OomNoKill'>;
    }
    case 'oomPanicked': {
      const v = ev.value;
      return { ...decisionFromProto(v.decision), type: 'OomPanicked', message: v.message, reason: panicReason.from(v.reason) } satisfies Ev<'OomPanicked'>;
    }
    case 'reaperRan': {
      const v = ev.value;
      return {
        type: 'ReaperRan',
        nowNs: num(v.nowNs, 'nowNs'),
        pid: v.pid,
        mmId: v.mmId,
        attempt: v.attempt,
        result: reapResult.from(v.result),
        nextAttemptNs: num(v.nextAttemptNs, 'nextAttemptNs'),
        logLines: v.logLines,
      } satisfies Ev<'ReaperRan'>;
    }
    case 'userspaceKillerPolled': {
      const v = ev.value;
      return {
        type: 'UserspaceKillerPolled',
        kind: killerKind.from(v.kind),
        nowNs: num(v.nowNs, 'nowNs'),
        nextPollNs: num(v.nextPollNs, 'nextPollNs'),
        samples: v.samples.map(sampleFromProto),
      } satisfies Ev<'UserspaceKillerPolled'>;
    }
    case 'userspaceKill': {
      const v = ev.value;
      return {
        type: 'UserspaceKill',
        kind: killerKind.from(v.kind),
        nowNs: num(v.nowNs, 'nowNs'),
        signal: oneOfStrings(signal.from(v.signal), ['SIGTERM', 'SIGKILL'] as const, 'signal'),
        reason: v.reason,
        pids: v.pids,
        cgroup: v.cgroup,
        cgroupPath: v.cgroupPath,
        ranking: v.ranking.map(userspaceCandidateFromProto),
        dryRun: v.dryRun,
        logLines: v.logLines,
      } satisfies Ev<'UserspaceKill'>;
    }
    case 'victimExited':
      return { type: 'VictimExited', pid: ev.value.pid } satisfies Ev<'VictimExited'>;
    case 'victimReaped':
      return { type: 'VictimReaped', pid: ev.value.pid } satisfies Ev<'VictimReaped'>;
    default:
      return unreachable(ev, 'oom event message');
  }
}

export const oomCodec = defineEventCodec<'oom', OomEvent>({
  service: 'oom',
  toProto,
  fromProto,
  eventType: (e) => e.type,
});
