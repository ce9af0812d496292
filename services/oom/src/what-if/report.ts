// What `mmsim oom whatif --continue` prints: where the run was rebuilt, whether the recorded
// workload replays exactly, and what differs with the change.
import type { ContinueResult, KillLine, RunSummary } from './continue.js';

const MEMINFO_KEYS = ['MemFree', 'MemAvailable', 'Cached', 'AnonPages', 'Shmem', 'PageTables', 'SwapFree', 'Committed_AS'];

export function meminfoFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

const victims = (k: KillLine): string => k.victims.map((v) => `${v.pid} (${v.name})`).join(', ');

function pad(rows: readonly (readonly string[])[]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd());
}

export function formatContinue(r: ContinueResult): string {
  const out: string[] = [];
  out.push(
    r.from.boot
      ? `--continue --from-start: the machine rebuilt from the log up to its boot (step ${r.from.step}, ${r.from.label}, is the first client command);`
      : `--continue: the machine rebuilt from the log up to step ${r.from.step} (${r.from.label}, seq ${r.from.seq}), where the OOM at seq ${r.killSeq} happened;`,
  );
  out.push(`then ${r.steps} recorded client commands run again to the end of the log (seq ${r.lastSeq}), once as recorded and once with ${r.changes.join(', ')}.`);
  out.push(
    r.reproduced
      ? 'The run without the change ends in the log\'s own state hashes: the recorded workload was recovered exactly.'
      : `WARNING: the run without the change does not end as the log does (${r.reproduceDetail.join('; ')}); the comparison below is between two re-runs.`,
  );
  if (r.decisionAfter) out.push(`First OOM decision with the change: ${r.decisionAfter.headline}.`);
  else out.push('With the change, no OOM decision is taken from that step on.');
  out.push('');
  out.push('OOM kills:');
  const n = Math.max(r.before.kills.length, r.after.kills.length);
  if (n === 0) out.push('  none in either run');
  else {
    const rows: string[][] = [['  #', 'as recorded', `with ${r.changes.join(', ')}`]];
    for (let i = 0; i < n; i++) {
      const b = r.before.kills[i];
      const a = r.after.kills[i];
      rows.push([`  ${i + 1}`, b ? `${victims(b)} by ${b.by} at step ${b.step}` : '-', a ? `${victims(a)} by ${a.by} at step ${a.step}` : '-']);
    }
    out.push(...pad(rows));
  }
  for (const [name, s] of [['as recorded', r.before], ['with the change', r.after]] as const) {
    if (s.panics.length) out.push(`Panics ${name}: ${s.panics.join('; ')}`);
  }
  out.push('');
  out.push(`Allocation failures: ${r.before.failures.length} as recorded, ${r.after.failures.length} with the change.`);
  for (const f of r.after.failures.slice(0, 8)) out.push(`  with the change: step ${f.step}: ${f.what}`);
  if (r.after.failures.length > 8) out.push(`  ... and ${r.after.failures.length - 8} more`);
  const extraSkips = r.after.skipped.length - r.before.skipped.length;
  out.push(`Commands that could not run: ${r.before.skipped.length} as recorded, ${r.after.skipped.length} with the change${extraSkips > 0 ? ' (their process was gone or the model refused them)' : ''}.`);
  for (const f of r.after.skipped.slice(0, 5)) out.push(`  with the change: step ${f.step}: ${f.what}`);
  if (r.after.skipped.length > 5) out.push(`  ... and ${r.after.skipped.length - 5} more`);
  out.push('');
  out.push(...aliveDiff(r.before, r.after));
  out.push('');
  out.push('/proc/meminfo at the end (kB):');
  const mb = meminfoFields(r.before.meminfo);
  const ma = meminfoFields(r.after.meminfo);
  const rows: string[][] = [['  ', 'as recorded', 'with the change', 'difference']];
  for (const k of MEMINFO_KEYS) {
    if (!mb.has(k) && !ma.has(k)) continue;
    const b = mb.get(k) ?? 0;
    const a = ma.get(k) ?? 0;
    rows.push([`  ${k}:`, String(b).padStart(11), String(a).padStart(15), `${a - b >= 0 ? '+' : ''}${a - b}`.padStart(10)]);
  }
  out.push(...pad(rows));
  if (r.approximations.length) {
    out.push('', `Approximate steps (${r.approximations.length}):`);
    for (const a of r.approximations.slice(0, 5)) out.push(`  ${a}`);
    if (r.approximations.length > 5) out.push(`  ... and ${r.approximations.length - 5} more`);
  }
  if (r.warnings.length) out.push('', 'Warnings:', ...r.warnings.slice(0, 5).map((w) => `  ${w}`));
  out.push('', 'The recorded workload is what the clients asked; a client that would have reacted to a different outcome (stopped, retried) is not modelled.');
  return out.join('\n') + '\n';
}

function aliveDiff(b: RunSummary, a: RunSummary): string[] {
  const bp = new Map(b.alive.map((p) => [p.pid, p]));
  const ap = new Map(a.alive.map((p) => [p.pid, p]));
  const onlyB = b.alive.filter((p) => !ap.has(p.pid));
  const onlyA = a.alive.filter((p) => !bp.has(p.pid));
  const lines = [`Processes alive at the end: ${b.alive.length} as recorded, ${a.alive.length} with the change.`];
  if (onlyA.length) lines.push(`  alive only with the change: ${onlyA.map((p) => `${p.pid} (${p.name}, ${p.rssKb} kB)`).join(', ')}`);
  if (onlyB.length) lines.push(`  alive only as recorded: ${onlyB.map((p) => `${p.pid} (${p.name}, ${p.rssKb} kB)`).join(', ')}`);
  return lines;
}
