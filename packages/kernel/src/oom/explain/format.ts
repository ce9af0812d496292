// Fixed-width text for an OomExplanation: the table, the winner marked with '*', then why.
import type { ExplainColumn, OomExplanation } from './explain.js';

export function formatExplainTable(x: OomExplanation): string {
  const cell = (r: OomExplanation['rows'][number], key: string): string => {
    switch (key) {
      case 'pid':
        return `${r.winner ? '*' : ' '}${r.pid}`;
      case 'name':
        return r.name;
      case 'points':
        return r.points;
      case 'oomScore':
        return String(r.oomScore);
      case 'verdict':
        return r.verdict;
      default:
        return r.inputs[key] ?? '';
    }
  };
  const lines = [x.headline, '', ...table(x.columns, x.rows.map((r) => x.columns.map((c) => cell(r, c.key)))), ''];
  lines.push(wrap(x.why));
  if (x.ties) lines.push(wrap(x.ties));
  if (x.kills) lines.push(wrap(x.kills));
  if (x.logLines.length) lines.push('', 'Kernel log:', ...x.logLines.map((l) => `  ${l}`));
  return lines.join('\n') + '\n';
}

/** Aligned columns, two spaces apart; the last column is not padded. */
export function table(columns: readonly Pick<ExplainColumn, 'title' | 'align'>[], cells: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const fmt = (row: readonly string[]): string =>
    row
      .map((v, i) => (i === row.length - 1 ? v : columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(columns.map((c) => c.title)), ...cells.map(fmt)];
}

function wrap(text: string, width = 100): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line.length ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}
