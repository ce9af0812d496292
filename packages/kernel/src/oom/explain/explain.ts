// explainKill(event): the candidate table of an OOM decision as rows a person can read (and a
// program can take as JSON), with the winner marked and sentences saying why it won, ties
// included. Pure: everything comes from the event.
import { formatPoints } from '../points.js';
import type { BadnessFactors, CandidateOutcome, OomCandidate, OomEvent, SkipReason, WinReason } from '../types.js';

export type OomDecisionEvent = Extract<OomEvent, { type: 'OomKillDecided' | 'OomNoKill' | 'OomPanicked' }>;

export interface ExplainColumn {
  readonly key: string;
  readonly title: string;
  readonly align: 'left' | 'right';
}

export interface ExplainRow {
  readonly pid: number;
  readonly name: string;
  /** The formula's inputs as the table shows them, by column key (pages unless named otherwise). */
  readonly inputs: Readonly<Record<string, string>>;
  readonly points: string;
  readonly oomScore: number;
  readonly outcome: CandidateOutcome;
  /** 'VICTIM', 'outscored', 'lost tie', 'skipped: oom_score_adj -1000'... */
  readonly verdict: string;
  readonly winner: boolean;
}

export interface OomExplanation {
  readonly profile: string;
  readonly event: OomDecisionEvent['type'];
  /** One line: what ran out, where, and the outcome. */
  readonly headline: string;
  readonly columns: readonly ExplainColumn[];
  readonly rows: readonly ExplainRow[];
  readonly winner: number | null;
  /** Why the winner won (or why nobody was killed). */
  readonly why: string;
  /** The tie, when there was one. */
  readonly ties: string | null;
  /** What was killed besides or instead of the winner (child first, shared mm, oom.group). */
  readonly kills: string | null;
  readonly logLines: readonly string[];
}

const COLUMNS_618: readonly ExplainColumn[] = [
  { key: 'anon', title: 'ANON', align: 'right' },
  { key: 'file', title: 'FILE', align: 'right' },
  { key: 'shmem', title: 'SHMEM', align: 'right' },
  { key: 'swap', title: 'SWAP', align: 'right' },
  { key: 'pgtables', title: 'PGTBL', align: 'right' },
  { key: 'adj', title: 'ADJ', align: 'right' },
  { key: 'adjPoints', title: 'ADJ*T/1000', align: 'right' },
];

const COLUMNS_2618: readonly ExplainColumn[] = [
  { key: 'totalVm', title: 'TOTAL_VM', align: 'right' },
  { key: 'children', title: '+CHILDREN', align: 'right' },
  { key: 'cpu', title: '/CPU', align: 'right' },
  { key: 'run', title: '/RUN', align: 'right' },
  { key: 'nice', title: 'NICE*2', align: 'right' },
  { key: 'admin', title: 'ROOT/4', align: 'right' },
  { key: 'rawio', title: 'RAWIO/4', align: 'right' },
  { key: 'oomAdj', title: 'OOM_ADJ', align: 'right' },
];

export const SKIP_TEXT: Readonly<Record<SkipReason, string>> = {
  'global-init': 'init (pid 1) is never killed',
  'kernel-thread': 'kernel thread',
  'no-mm': 'no mm (exited)',
  'oom-score-adj-min': 'oom_score_adj -1000',
  'oom-disable': 'oom_adj -17 (OOM_DISABLE)',
  'mm-oom-skip': 'mm already reaped (MMF_OOM_SKIP)',
  'in-vfork': 'in vfork()',
  'oom-victim-reaped': 'earlier victim, mm reaped',
};

function verdictText(c: OomCandidate): string {
  switch (c.outcome) {
    case 'victim':
      return 'VICTIM';
    case 'outscored':
      return 'outscored';
    case 'lost-tie':
      return 'lost tie';
    case 'skipped':
      return `skipped: ${c.skip === null ? '?' : SKIP_TEXT[c.skip]}`;
    case 'scored':
      return 'scored';
    case 'blocks':
      return 'BLOCKS: earlier victim still exiting';
    case 'not-reached':
      return 'not reached';
    case 'not-considered':
      return 'not considered';
  }
}

function inputsOf(f: BadnessFactors | null): Record<string, string> {
  if (f === null) return {};
  if (f.formula === 'linux-6.18') {
    return {
      anon: String(f.rssAnon),
      file: String(f.rssFile),
      shmem: String(f.rssShmem),
      swap: String(f.swapEnts),
      pgtables: String(f.pgtables),
      adj: String(f.oomScoreAdj),
      adjPoints: String(f.oomScoreAdj * f.adjUnit),
    };
  }
  return {
    totalVm: String(f.totalVm),
    children: `${f.childrenPoints}${f.childrenCounted ? ` (${f.childrenCounted})` : ''}`,
    cpu: f.cpuDivisor ? String(f.cpuDivisor) : '-',
    run: f.runDivisor ? String(f.runDivisor) : '-',
    nice: f.niceDoubled ? 'yes' : '-',
    admin: f.adminQuartered ? 'yes' : '-',
    rawio: f.rawioQuartered ? 'yes' : '-',
    oomAdj: String(f.oomAdj),
  };
}

/** The formula spelled out for one task: "rss 263144 + swap 0 + page tables 132 = 263276". */
export function formulaText(f: BadnessFactors, points: string): string {
  if (f.formula === 'linux-6.18') {
    const rss = f.rssAnon + f.rssFile + f.rssShmem;
    const adj = f.oomScoreAdj === 0 ? '' : ` ${f.oomScoreAdj < 0 ? '-' : '+'} oom_score_adj ${Math.abs(f.oomScoreAdj)} x ${f.adjUnit} (totalpages/1000)`;
    return `rss ${rss} (anon ${f.rssAnon}, file ${f.rssFile}, shmem ${f.rssShmem}) + swap ${f.swapEnts} + page tables ${f.pgtables}${adj} = ${points} pages`;
  }
  const steps = [`total_vm ${f.totalVm}`];
  if (f.childrenCounted) steps.push(`+ ${f.childrenPoints} for ${f.childrenCounted} child${f.childrenCounted > 1 ? 'ren' : ''} (total_vm/2 + 1 each)`);
  if (f.cpuDivisor) steps.push(`/ int_sqrt(cpu_time ${f.cpuTime}) = ${f.cpuDivisor}`);
  if (f.runDivisor) steps.push(`/ int_sqrt(int_sqrt(run_time ${f.runTime})) = ${f.runDivisor}`);
  if (f.niceDoubled) steps.push('x 2 (niced)');
  if (f.adminQuartered) steps.push('/ 4 (root or CAP_SYS_ADMIN)');
  if (f.rawioQuartered) steps.push('/ 4 (CAP_SYS_RAWIO)');
  if (f.oomAdj > 0) steps.push(`<< oom_adj ${f.oomAdj}`);
  if (f.oomAdj < 0) steps.push(`>> ${-f.oomAdj} (oom_adj ${f.oomAdj})`);
  return `${steps.join(' ')} = ${points} points`;
}

export function explainKill(e: OomDecisionEvent): OomExplanation {
  const columns: ExplainColumn[] = [
    { key: 'pid', title: 'PID', align: 'right' },
    { key: 'name', title: 'NAME', align: 'left' },
    ...(e.profile === 'linux-2.6.18' ? COLUMNS_2618 : COLUMNS_618),
    { key: 'points', title: 'POINTS', align: 'right' },
    { key: 'oomScore', title: 'OOM_SCORE', align: 'right' },
    { key: 'verdict', title: 'VERDICT', align: 'left' },
  ];
  const winner = e.type === 'OomKillDecided' ? e.chosen : null;
  const rows: ExplainRow[] = e.candidates.map((c) => ({
    pid: c.pid,
    name: c.name,
    inputs: inputsOf(c.factors),
    points: formatPoints(c.points),
    oomScore: c.oomScore,
    outcome: c.outcome,
    verdict: verdictText(c),
    winner: c.pid === winner && c.outcome === 'victim',
  }));
  const t = e.request.trigger;
  const current = e.candidates.find((c) => c.pid === t.pid);
  const where = e.constraint === 'CONSTRAINT_MEMCG' && t.constraint.kind === 'memcg'
    ? `memcg ${e.request.memcgs?.find((m) => m.id === (t.constraint as { memcg: number }).memcg)?.path ?? `#${t.constraint.memcg}`}`
    : 'global';
  const outcome =
    e.type === 'OomKillDecided' ? `killed pid ${e.killed.map((k) => k.pid).join(', ')}` : e.type === 'OomNoKill' ? `no kill (${e.reason})` : `panic: ${e.message}`;
  const headline =
    `${e.profile}: ${where} OOM, ${t.context} by pid ${t.pid}${current ? ` (${current.name})` : ''}, order ${t.order}, ` +
    `totalpages ${e.totalPages}: ${outcome}`;
  return {
    profile: e.profile,
    event: e.type,
    headline,
    columns,
    rows,
    winner,
    why: whySentence(e),
    ties: e.type === 'OomKillDecided' ? tieSentence(e.profile, e.why, e.candidates) : null,
    kills: e.type === 'OomKillDecided' ? killSentence(e) : null,
    logLines: e.logLines,
  };
}

function nameOf(cands: readonly OomCandidate[], pid: number | null): string {
  const c = cands.find((x) => x.pid === pid);
  return c ? `pid ${pid} (${c.name})` : `pid ${pid}`;
}

function whySentence(e: OomDecisionEvent): string {
  if (e.type === 'OomPanicked') {
    return e.reason === 'panic-on-oom'
      ? `The kernel panicked instead of killing: panic_on_oom=${e.policy.panicOnOom} ("${e.message}").`
      : `Nothing could be killed, so the kernel panicked ("${e.message}").`;
  }
  if (e.type === 'OomNoKill') {
    const who = nameOf(e.candidates, e.pid);
    switch (e.reason) {
      case 'victim-not-reaped':
        return `No new kill: ${who} was killed earlier and its memory is not reaped yet; the kernel waits for it instead of killing a second task.`;
      case 'task-releasing-memory':
        return `No new kill: ${who} is exiting or already has TIF_MEMDIE; 2.6.18 waits for it to release its memory.`;
      case 'current-exiting':
        return `No kill: the allocating task ${who} is dying anyway; it gets access to the memory reserves.`;
      case 'victim-exiting':
        return `No kill: the chosen task ${who} is already dying; it is only marked as the OOM victim.`;
      case 'gfp-no-fs':
        return 'No kill: the allocation may not enter the filesystem (no __GFP_FS); the OOM killer does not compensate for IO-less reclaim.';
      case 'costly-order':
        return `No kill: a memcg charge of order ${e.request.trigger.order} (> 3) fails without invoking the OOM killer.`;
      case 'no-candidate':
        return 'No kill: no task in the cgroup can be killed; the charge fails with ENOMEM.';
      case 'chosen-has-no-mm':
        return `No kill, and no end: 2.6.18 chose ${who}, which has no mm; oom_kill_task() fails and out_of_memory() selects it again for ever.`;
    }
  }
  const w = e.candidates.find((c) => c.pid === e.chosen && c.outcome === 'victim');
  const who = nameOf(e.candidates, e.chosen);
  const formula = w?.factors ? formulaText(w.factors, formatPoints(w.points)) : `${formatPoints(e.chosenPoints)} points`;
  const n = e.candidates.filter((c) => c.outcome === 'victim' || c.outcome === 'outscored' || c.outcome === 'lost-tie').length;
  const runner = e.candidates.find((c) => c.pid === e.why.runnerUp);
  const runnerText = runner && typeof runner.points === 'number' && typeof e.chosenPoints === 'number'
    ? ` The runner-up, ${nameOf(e.candidates, runner.pid)}, had ${runner.points}${runner.points === e.chosenPoints ? ' as well' : ` (${e.chosenPoints - runner.points} fewer)`}.`
    : '';
  switch (e.why.rule) {
    case 'allocating-task':
      return `${who} was killed because oom_kill_allocating_task is set: the task whose allocation failed dies, without a scan.`;
    case 'oom-task-origin':
      return `${who} was running swapoff or another oom_task_origin() operation, which scores LONG_MAX: it dies first.`;
    case 'swapoff':
      return `${who} had PF_SWAPOFF set: 2.6.18 returns it from the scan at once.`;
    case 'only-candidate':
      return `${who} was the only candidate: ${formula}.`;
    case 'tie-later-wins':
    case 'tie-first-wins':
    case 'highest-points':
      return `${who} had the highest badness of ${n} candidates: ${formula}.${runnerText}`;
  }
}

function tieSentence(profile: string, why: WinReason, cands: readonly OomCandidate[]): string | null {
  if (why.tiedWith.length < 2) return null;
  const names = why.tiedWith.map((p) => nameOf(cands, p)).join(', ');
  const winner = cands.find((c) => c.outcome === 'victim');
  const points = formatPoints(winner?.points ?? null);
  return why.rule === 'tie-later-wins'
    ? `${names} tied at ${points} points; ${profile} keeps the later task in the list (oom_evaluate_task() skips only "points < chosen_points"), so ${nameOf(cands, winner?.pid ?? null)} won.`
    : `${names} tied at ${points} points; ${profile} keeps the first task found (select_bad_process() replaces only on "points > *ppoints"), so ${nameOf(cands, winner?.pid ?? null)} won.`;
}

function killSentence(e: Extract<OomEvent, { type: 'OomKillDecided' }>): string | null {
  const parts: string[] = [];
  const child = e.killed.find((k) => k.why === 'child');
  if (child) parts.push(`2.6.18 kills a child with its own mm before the chosen task: pid ${child.pid} (${child.name}) died instead of pid ${e.chosen}.`);
  const sharers = e.killed.filter((k) => k.why === 'shares-mm');
  if (sharers.length) parts.push(`Processes sharing the victim's mm died with it: ${sharers.map((k) => `pid ${k.pid} (${k.name})`).join(', ')}.`);
  if (e.oomGroup) {
    const members = e.killed.filter((k) => k.why === 'oom-group');
    parts.push(`memory.oom.group is set on ${e.oomGroup.path}: every task in it dies (adj -1000 spared)${members.length ? `: ${members.map((k) => `pid ${k.pid}`).join(', ')}` : ''}.`);
  }
  return parts.length ? parts.join(' ') : null;
}
