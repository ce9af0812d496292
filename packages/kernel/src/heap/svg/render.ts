// renderHeapSvg(): a map of one process's heap as an SVG document. Pure: the same map and
// options give the same bytes (numbers are printed with fixed rounding, pieces in address order).

import { GAP_PX, layoutHeap, type Layout, type PieceKind } from './layout.js';
import type { HeapMap, HeapSvgOptions } from './types.js';

const MARGIN_LEFT = 130;
const MARGIN_RIGHT = 20;
const ROW_H = 16;
const ROW_GAP = 4;
const SECTION_LABEL_H = 18;
const TITLE_H = 28;
const LEGEND_ROW_H = 18;

interface KindStyle {
  readonly label: string;
  readonly fill: string;
}

export const KIND_STYLES: Readonly<Record<PieceKind, KindStyle>> = {
  'in-use': { label: 'in use', fill: '#4e79a7' },
  tcache: { label: 'free: tcache', fill: '#59a14f' },
  fastbin: { label: 'free: fastbin', fill: '#8cd17d' },
  unsorted: { label: 'free: unsorted bin', fill: '#f28e2b' },
  small: { label: 'free: small bin', fill: '#edc948' },
  large: { label: 'free: large bin', fill: '#e15759' },
  top: { label: 'top chunk', fill: '#d4cfcb' },
  mmapped: { label: 'mmapped chunk (in use)', fill: '#76b7b2' },
  meta: { label: 'allocator metadata / padding', fill: '#9c755f' },
  mixed: { label: 'merged run of small chunks of several kinds', fill: '#b07aa1' },
};
const KIND_ORDER: readonly PieceKind[] = ['in-use', 'mmapped', 'tcache', 'fastbin', 'unsorted', 'small', 'large', 'top', 'meta', 'mixed'];

/** 1 decimal, no trailing ".0": stable text for coordinates. */
const num = (x: number): string => {
  const r = Math.round(x * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
};
const hex = (n: number): string => `0x${n.toString(16)}`;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} B`;
  const r = Math.round(v * 10) / 10;
  return `${Number.isInteger(r) ? String(r) : r.toFixed(1)} ${units[u]}`;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function scaleNote(l: Layout, minPx: number): string {
  const bytesPerPx = l.pxPerByte > 0 ? 1 / l.pxPerByte : 0;
  let s = `Widths are to scale, ${formatBytes(Math.max(1, Math.round(bytesPerPx)))} per px, except that every chunk is at least ${minPx} px wide so that small chunks stay visible.`;
  if (l.merged === 'same-kind') s += ' Runs of adjacent small chunks of one kind are drawn as one piece (hover: count).';
  if (l.merged === 'any-kind') s += ' Runs of adjacent small chunks are drawn as one piece, purple when their kinds differ (hover: count).';
  return s;
}

export function renderHeapSvg(map: HeapMap, options: HeapSvgOptions = {}): string {
  const width = options.width ?? 1200;
  const minPx = options.minChunkPx ?? 3;
  const l = layoutHeap(map, { width, maxRows: options.maxRows ?? 240, minChunkPx: minPx });
  const tooltips = l.rects.length <= (options.tooltipLimit ?? 20000);

  // Totals per kind, for the legend.
  const totals = new Map<PieceKind, { count: number; bytes: number }>();
  for (const s of l.sections)
    for (const p of s.pieces) {
      const t = totals.get(p.kind) ?? { count: 0, bytes: 0 };
      t.count += p.count;
      t.bytes += p.size;
      totals.set(p.kind, t);
    }
  const kinds = KIND_ORDER.filter((k) => totals.has(k));
  const legendCols = 3;
  const legendRows = Math.ceil(kinds.length / legendCols) + 1;
  const top = TITLE_H + legendRows * LEGEND_ROW_H + 10;

  // y of each row: sections add a label band above their first row.
  const rowY: number[] = [];
  let y = top;
  let nextSection = 0;
  for (let r = 0; r < l.rows; r++) {
    if (nextSection < l.sectionRows.length && l.sectionRows[nextSection] === r) {
      y += SECTION_LABEL_H;
      nextSection++;
    }
    rowY.push(y);
    y += ROW_H + ROW_GAP;
  }
  const totalW = MARGIN_LEFT + width + MARGIN_RIGHT;
  const totalH = y + 10;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${num(totalH)}" viewBox="0 0 ${totalW} ${num(totalH)}" font-family="monospace" font-size="11">`,
  );
  out.push('<style>');
  for (const k of KIND_ORDER) out.push(`.k-${k}{fill:${KIND_STYLES[k].fill}}`);
  out.push('rect.c{stroke:#ffffff;stroke-width:0.5}text.in{fill:#000000;font-size:10px}text.addr{fill:#444444}.gap{stroke:#888888;stroke-dasharray:2,2}</style>');
  out.push(`<rect x="0" y="0" width="${totalW}" height="${num(totalH)}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="18" font-size="14">${escapeXml(options.title ?? 'heap map')}</text>`);

  // Legend
  kinds.forEach((k, i) => {
    const lx = 10 + (i % legendCols) * Math.floor((totalW - 20) / legendCols);
    const ly = TITLE_H + Math.floor(i / legendCols) * LEGEND_ROW_H;
    const t = totals.get(k) ?? { count: 0, bytes: 0 };
    out.push(`<rect class="k-${k}" x="${lx}" y="${ly}" width="12" height="12"/>`);
    out.push(`<text x="${lx + 16}" y="${ly + 10}">${escapeXml(`${KIND_STYLES[k].label}: ${t.count} (${formatBytes(t.bytes)})`)}</text>`);
  });
  out.push(`<text x="10" y="${TITLE_H + (legendRows - 1) * LEGEND_ROW_H + 10}" font-size="10">${escapeXml(scaleNote(l, minPx))}</text>`);

  // Section labels
  l.sections.forEach((s, i) => {
    const sy = rowY[l.sectionRows[i]] - 5;
    const size = s.end - s.start;
    out.push(`<text x="${MARGIN_LEFT}" y="${num(sy)}">${escapeXml(`${s.label}: ${hex(s.start)}-${hex(s.end)}${s.kind === 'mmapped' ? '' : ` (${formatBytes(size)})`}`)}</text>`);
  });

  // Address at the start of each row
  for (const rs of l.rowStarts) {
    out.push(`<text class="addr" x="${MARGIN_LEFT - 6}" y="${num(rowY[rs.row] + 12)}" text-anchor="end">${hex(rs.addr)}</text>`);
  }

  // A piece's label goes in its widest rect (a piece may wrap across rows).
  const widest = new Map<Layout['rects'][number]['piece'], Layout['rects'][number]>();
  for (const r of l.rects) {
    const w = widest.get(r.piece);
    if (w === undefined || r.width > w.width) widest.set(r.piece, r);
  }

  // Chunks
  for (const r of l.rects) {
    const p = r.piece;
    const x = MARGIN_LEFT + r.x;
    const ry = rowY[r.row];
    const tip = tooltips && r.first
      ? `<title>${escapeXml(`${hex(p.addr)}: ${p.count > 1 ? `${p.count} chunks, ` : ''}${formatBytes(p.size)} (${p.size} B), ${KIND_STYLES[p.kind].label}`)}</title>`
      : '';
    out.push(`<rect class="c k-${p.kind}" x="${num(x)}" y="${num(ry)}" width="${num(r.width)}" height="${ROW_H}">${tip}</rect>`);
    // A label inside wide pieces: what it is and its size.
    if (widest.get(p) === r && r.width >= 70) {
      const name = p.kind === 'in-use' || p.kind === 'mmapped' ? '' : `${p.kind} `;
      const text = `${name}${formatBytes(p.size)}${p.count > 1 ? ` x${p.count}` : ''}`;
      if (text.length * 6.2 < r.width - 4) out.push(`<text class="in" x="${num(x + 3)}" y="${num(ry + 12)}">${escapeXml(text)}</text>`);
    }
  }

  // Gaps between mappings
  for (const g of l.gapMarks) {
    const gx = MARGIN_LEFT + g.x + GAP_PX / 2;
    const gy = rowY[g.row];
    out.push(`<line class="gap" x1="${num(gx)}" y1="${num(gy - 2)}" x2="${num(gx)}" y2="${num(gy + ROW_H + 2)}"><title>${escapeXml(`gap, next mapping at ${hex(g.addr)}`)}</title></line>`);
  }

  out.push('</svg>');
  return out.join('\n') + '\n';
}
