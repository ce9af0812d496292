// what-if --continue: rebuild the machine from its log up to the root command during which the
// OOM decision was taken, change a setting, and run the rest of the recorded workload again;
// then say what differs from the run without the change (kills, allocation failures, who is
// alive, /proc/meminfo at the end).
//
// Two machines are rebuilt from the same prefix of the log: the baseline runs the workload
// unchanged and must end in the log's own state hashes (that proves the workload was recovered
// exactly); the other runs it after the change. Everything is in-process and deterministic.
import { invalid, isRejection, notFound, precondition, type ServiceName } from '@mmsim/kernel';
import type { HeapCallResult } from '@mmsim/kernel/heap';
import { explainKill, type OomDecisionEvent, type OomEvent, type OomExplanation } from '@mmsim/kernel/oom';
import { tasksInOrder, type VmState } from '@mmsim/kernel/vm';
import { describeMachineChange, type MachineChange } from './changes.js';
import type { DecodedLog } from './records.js';
import { isFailedAllocation, newVm, rebuildStates, ReplayMachine, type StepOutcome } from './replay-machine.js';
import { recoverWorkload, type Root } from './workload.js';

export interface KillLine {
  /** The workload step during which it happened (-1: while the change was made). */
  readonly step: number;
  readonly during: string;
  readonly by: string;
  readonly victims: readonly { readonly pid: number; readonly name: string }[];
  readonly why: string;
}

export interface FailureLine {
  readonly step: number;
  readonly what: string;
}

export interface RunSummary {
  readonly kills: readonly KillLine[];
  readonly panics: readonly string[];
  readonly failures: readonly FailureLine[];
  /** Steps not run: their process was gone, or the model refused them. */
  readonly skipped: readonly FailureLine[];
  readonly alive: readonly { readonly pid: number; readonly name: string; readonly rssKb: number }[];
  readonly meminfo: string;
  readonly hashes: Readonly<Record<ServiceName, string>>;
}

export interface ContinueResult {
  readonly machine: string;
  readonly killSeq: number;
  readonly changes: readonly string[];
  /** Where the machine was rebuilt to (just before this step) and the change made: the step the decision was taken in, or the first after the boot. */
  readonly from: { readonly step: number; readonly label: string; readonly seq: number; readonly boot: boolean };
  readonly steps: number;
  readonly lastSeq: number;
  /** The prefix rebuilt by evolve() reproduced the log's state hashes. */
  readonly rebuilt: boolean;
  /** The baseline run (no change) ended in the log's final state hashes. */
  readonly reproduced: boolean;
  readonly reproduceDetail: readonly string[];
  readonly before: RunSummary;
  readonly after: RunSummary;
  /** The first OOM decision of each run from that step on, explained. */
  readonly decisionBefore: OomExplanation | null;
  readonly decisionAfter: OomExplanation | null;
  /** Steps rebuilt approximately (a client's touch), and heap calls whose records did not line up. */
  readonly approximations: readonly string[];
  readonly warnings: readonly string[];
}

const DECISIONS = new Set(['OomKillDecided', 'OomNoKill', 'OomPanicked']);

export interface ContinueOptions {
  /**
   * 'kill' (default): rebuild up to the client command during which the decision was taken and
   * make the change there. 'boot': make the change right after the machine booted and run the
   * whole recorded workload (what if the machine had always run so).
   */
  readonly from?: 'kill' | 'boot';
  /** After each re-run step (both runs): for a progress line on long logs. */
  readonly onStep?: (run: 'unchanged' | 'changed', done: number, total: number) => void;
}

export function continueWhatIf(log: DecodedLog, killSeq: number, changes: readonly MachineChange[], opts: ContinueOptions = {}): ContinueResult {
  const decisionRecord = log.records.find((r) => r.service === 'oom' && r.envelopes.some((e) => e.seq === killSeq && DECISIONS.has((e.event as OomEvent).type)));
  if (!decisionRecord) throw notFound('oom.NO_DECISION', `no OOM decision at seq ${killSeq} in the log of ${log.machine.machine}`);
  const workload = recoverWorkload(log);
  const during = workload.roots.find((r) => r.firstSeq <= killSeq && killSeq <= r.lastSeq);
  if (!during || during.root.kind === 'boot') throw precondition('oom.NO_WORKLOAD', `the OOM at seq ${killSeq} is not inside a client's command`);
  const at = opts.from === 'boot' ? (workload.roots.find((r) => r.root.kind !== 'boot') ?? during) : during;
  const rest = workload.roots.slice(at.index);

  // Baseline: the same prefix, no change.
  const vmB = newVm();
  const base = rebuildStates(log, at.firstSeq, vmB);
  const rebuilt = Object.values(base.hashes).every((h) => h!.recorded === h!.got);
  const before = new ReplayMachine(base.states, vmB);
  const progress = (run: 'unchanged' | 'changed', i: number): void => opts.onStep?.(run, i + 1, rest.length);
  const beforeSteps = rest.map((r, i) => {
    const out = before.run(r);
    progress('unchanged', i);
    return out;
  });

  // The what-if: the same prefix, the change, the same steps.
  const vmA = newVm();
  const prefix = rebuildStates(log, at.firstSeq, vmA);
  let states = prefix.states;
  for (const c of changes) if (c.kind === 'profile') states = { ...states, oom: { ...states.oom, profile: c.profile } };
  const after = new ReplayMachine(states, vmA);
  const changeSteps = changes.flatMap((c) => applyChange(after, c, at));
  const afterSteps = rest.map((r, i) => {
    const out = after.run(r);
    progress('changed', i);
    return out;
  });

  const reproduceDetail: string[] = [];
  const finalB = before.hashes(vmB);
  for (const svc of Object.keys(log.lastHashes) as ServiceName[]) {
    if (log.lastHashes[svc] !== finalB[svc]) reproduceDetail.push(`${svc}: the log ends in state ${log.lastHashes[svc]}, the re-run without change in ${finalB[svc]}`);
  }
  for (const [svc, h] of Object.entries(base.hashes)) if (h && h.recorded !== h.got) reproduceDetail.push(`${svc}: rebuilt to seq ${h.seq} as ${h.got}, the log says ${h.recorded}`);

  const approximations = rest.filter((r) => r.approximate !== null).map((r) => `step ${r.index} (${r.label}): ${r.approximate}`);
  return {
    machine: log.machine.machine,
    killSeq,
    changes: changes.map(describeMachineChange),
    from: { step: at.index, label: at.label, seq: at.firstSeq, boot: opts.from === 'boot' },
    steps: rest.length,
    lastSeq: log.lastSeq,
    rebuilt,
    reproduced: reproduceDetail.length === 0,
    reproduceDetail,
    before: summarize(before, beforeSteps, [], vmB),
    after: summarize(after, afterSteps, changeSteps, vmA),
    decisionBefore: firstDecision(beforeSteps),
    decisionAfter: firstDecision([...changeSteps, ...afterSteps]),
    approximations,
    warnings: workload.warnings,
  };
}

/** A change as a write on the rebuilt machine, as root would make it. */
function applyChange(m: ReplayMachine, c: MachineChange, at: Root): StepOutcome[] {
  const step = (label: string, command: unknown): StepOutcome => {
    const root: Root = { index: -1, firstSeq: at.firstSeq, lastSeq: at.firstSeq, root: { kind: 'unrecovered', reason: 'a what-if change' }, label, approximate: null };
    try {
      const r = m.command('vma', command);
      if (typeof r.answer === 'number' && r.answer < 0) throw invalid('oom.BAD_WHATIF', `${label} failed on the rebuilt machine (errno ${-r.answer})`);
      return { root, status: 'ran', note: '', events: r.events, result: r.answer };
    } catch (e) {
      if (isRejection(e)) throw invalid('oom.BAD_WHATIF', `${label}: ${e.message}`);
      throw e;
    }
  };
  switch (c.kind) {
    case 'profile':
      return [];
    case 'adj': {
      const t = m.vm.tasks.get(c.pid);
      if (!t || t.state === 'dead' || t.state === 'zombie') throw invalid('oom.BAD_WHATIF', `pid ${c.pid} is not alive when the OOM happens`);
      // written by init (root, every capability), as an administrator would
      return [step(`oom_score_adj ${c.oomScoreAdj} on pid ${c.pid}`, { type: 'SetOomScoreAdj', pid: c.pid, value: c.oomScoreAdj, writer: 1 })];
    }
    case 'sysctl':
      return [step(`vm.${c.name}=${c.value}`, { type: 'SetSysctl', name: c.name, value: c.value })];
    case 'cgroup': {
      if (![...m.vm.cgroups.values()].some((g) => g.path === c.path)) throw invalid('oom.BAD_WHATIF', `no cgroup ${c.path} on the machine when the OOM happens`);
      const field = c.file === 'memory.max' ? { max: c.value } : c.file === 'memory.high' ? { high: c.value } : c.file === 'memory.swap.max' ? { swapMax: c.value } : { oomGroup: c.value === 1 };
      return [step(describeMachineChange(c), { type: 'SetCgroupLimit', path: c.path, ...field })];
    }
  }
}

function firstDecision(steps: readonly StepOutcome[]): OomExplanation | null {
  for (const s of steps) for (const b of s.events) if (b.service === 'oom') for (const e of b.events as OomEvent[]) if (DECISIONS.has(e.type)) return explainKill(e as OomDecisionEvent);
  return null;
}

function summarize(m: ReplayMachine, steps: readonly StepOutcome[], changeSteps: readonly StepOutcome[], vm: ReturnType<typeof newVm>): RunSummary {
  const kills: KillLine[] = [];
  const panics: string[] = [];
  const failures: FailureLine[] = [];
  const skipped: FailureLine[] = [];
  for (const s of [...changeSteps, ...steps]) {
    const step = s.root.index;
    const during = s.root.label;
    for (const b of s.events) {
      if (b.service !== 'oom') continue;
      for (const e of b.events as OomEvent[]) {
        if (e.type === 'OomKillDecided') {
          kills.push({ step, during, by: `${e.profile} OOM killer`, victims: e.killed.map((k) => ({ pid: k.pid, name: k.name })), why: explainKill(e).why });
        } else if (e.type === 'OomPanicked') {
          panics.push(`step ${step} (${during}): ${e.message}`);
        } else if (e.type === 'UserspaceKill' && !e.dryRun && e.pids.length) {
          const names = new Map(e.ranking.map((c) => [c.pid, c.name]));
          kills.push({ step, during, by: e.kind, victims: e.pids.map((pid) => ({ pid, name: names.get(pid) ?? m.vm.tasks.get(pid)?.name ?? '' })), why: e.reason });
        }
      }
    }
    if (s.status === 'skipped' && s.root.root.kind !== 'boot') skipped.push({ step, what: `${during}: ${s.note}` });
    if (s.status === 'rejected' || s.status === 'not-recovered') skipped.push({ step, what: `${during}: ${s.note}` });
    if (s.status !== 'ran') continue;
    const r = s.root.root;
    if (r.kind === 'heap') {
      const res = s.result as HeapCallResult | undefined;
      if (isFailedAllocation(r.recorded.call, r.recorded.args, res)) failures.push({ step, what: `${during} returned NULL` });
    } else if (r.kind === 'vma') {
      const cmd = r.command;
      const a = s.result;
      if ((cmd.type === 'Syscall' || cmd.type === 'Spawn' || cmd.type === 'Fork') && typeof a === 'number' && a < 0 && a > -4096) failures.push({ step, what: `${during} failed: errno ${-a}` });
      if (cmd.type === 'Touch' && a && typeof a === 'object' && (a as { ok: boolean }).ok === false) {
        const t = a as { signal?: string; blocked?: string };
        if (t.signal !== 'SIGKILL') failures.push({ step, what: `${during}: ${t.signal ?? t.blocked}` });
      }
    }
  }
  const vs: VmState = m.vm;
  const alive = tasksInOrder(vs)
    .filter((t) => !t.isKthread && t.pid === t.tgid && t.state !== 'dead' && t.state !== 'zombie' && t.pid !== 1)
    .map((t) => {
      const mm = t.mmId ? vs.mms.get(t.mmId) : undefined;
      return { pid: t.pid, name: t.name, rssKb: mm ? (mm.rssAnon + mm.rssFile + mm.rssShmem) * 4 : 0 };
    });
  return { kills, panics, failures, skipped, alive, meminfo: m.meminfo(), hashes: m.hashes(vm) };
}
