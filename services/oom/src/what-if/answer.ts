// One what-if, as the WhatIf RPC and `mmsim oom whatif` answer it: the recorded decision
// re-decided under the changes (from the oom state it was taken in), and with --continue the
// rest of the recorded workload run again under them. Text and JSON are made here, so the RPC
// and the CLI (which runs --continue on its side from an export) print the same.
import { explainKill, formatExplainTable, SKIP_TEXT, whatIf, type OomExplanation, type WhatIfResult } from '@mmsim/kernel/oom';
import type { KernelDecision } from '../decisions.js';
import { runOnlyNote, type ParsedChanges } from './changes.js';
import { continueWhatIf, type ContinueOptions, type ContinueResult } from './continue.js';
import type { DecodedLog } from './records.js';
import { formatContinue } from './report.js';

export interface WhatIfAnswer {
  readonly machine: string;
  /** The decision's seq in the log. */
  readonly seq: number;
  /** The recorded decision re-decided (before: as recorded, after: with the changes). */
  readonly decision: WhatIfResult;
  /** Changes that only show with --continue. */
  readonly runOnly: readonly string[];
  readonly note: string | null;
  readonly continued: ContinueResult | null;
}

/** `log`: the machine's log, for --continue (null: re-decide only). */
export function answerWhatIf(machine: string, d: KernelDecision, changes: ParsedChanges, log: DecodedLog | null, opts: ContinueOptions = {}): WhatIfAnswer {
  const decision = whatIf({ request: d.event.request, profile: d.event.profile, policy: d.event.policy, ...d.before }, changes.decision);
  return {
    machine,
    seq: d.seq,
    decision,
    runOnly: changes.runOnly,
    note: runOnlyNote(changes.runOnly),
    continued: log ? continueWhatIf(log, d.seq, changes.machine, opts) : null,
  };
}

const HIDDEN = new Set([`skipped: ${SKIP_TEXT['kernel-thread']}`, `skipped: ${SKIP_TEXT['no-mm']}`]);

/**
 * The explanation without kernel threads (and tasks without an mm): 6.18 skips them; 2.6.18 scores
 * them 0 (badness() of a task without an mm), so they are rows without any input either way.
 */
export function withoutKernelThreads(x: OomExplanation): { readonly explanation: OomExplanation; readonly hidden: number } {
  const noMm = (r: OomExplanation['rows'][number]): boolean =>
    HIDDEN.has(r.verdict) || (!r.winner && r.pid !== 1 && Object.keys(r.inputs).length === 0 && r.outcome !== 'skipped' && r.outcome !== 'blocks' && r.outcome !== 'victim');
  const rows = x.rows.filter((r) => !noMm(r));
  return { explanation: { ...x, rows }, hidden: x.rows.length - rows.length };
}

/** The candidate table as `mmsim oom explain` prints it; kernel threads counted, not listed, unless `all`. */
export function formatExplanation(x: OomExplanation, all = false): string {
  if (all) return formatExplainTable(x);
  const { explanation, hidden } = withoutKernelThreads(x);
  const text = formatExplainTable(explanation);
  if (!hidden) return text;
  // The count goes right under the table (before the sentences).
  const lines = text.split('\n');
  const end = lines.indexOf('', 2);
  const note = `(${hidden} kernel thread${hidden > 1 ? 's' : ''} and tasks without an mm not shown (no mm: nothing to free); --all lists them)`;
  if (end < 0) return `${text}${note}\n`;
  return [...lines.slice(0, end), note, ...lines.slice(end)].join('\n');
}

export function formatWhatIf(a: WhatIfAnswer, all = false): string {
  const out: string[] = [];
  const r = a.decision;
  out.push(`What if, at the OOM decision of seq ${a.seq} on ${a.machine}:`);
  out.push(r.changes.length ? r.sentence : 'the recorded decision does not change (no change below affects whom the OOM killer picks).');
  if (r.changes.length && r.after.event) {
    out.push('', `The decision with ${r.changes.length > 1 ? 'these changes' : 'this change'}:`, '', formatExplanation(explainKill(r.after.event), all).trimEnd());
  }
  if (a.note) out.push('', a.note);
  if (a.continued) out.push('', formatContinue(a.continued).trimEnd());
  return out.join('\n') + '\n';
}
