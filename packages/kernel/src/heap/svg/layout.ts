// The heap map's geometry: which pieces are drawn, how wide, on which row.
//
// Widths are linear in bytes, except that no piece is narrower than minChunkPx: a 32-byte chunk
// next to a 100 MiB top chunk stays visible. The scale (px per byte) is solved so that the
// pieces fill the rows chosen for them. When even minimum widths do not fit in maxRows rows,
// adjacent small chunks of one kind are merged into a run (then, if still too many, of any
// kind: 'mixed'); the legend says so.

import type { ChunkKind, HeapMap, MapRegion, RegionKind } from './types.js';

export type PieceKind = ChunkKind | 'mixed';

/** One drawn piece: a chunk, or a run of `count` adjacent chunks. */
export interface Piece {
  readonly addr: number;
  readonly size: number;
  readonly kind: PieceKind;
  readonly count: number;
  /** Not adjacent to the previous piece of its section (a gap between mappings). */
  readonly afterGap: boolean;
}

export interface Section {
  readonly label: string;
  readonly kind: RegionKind;
  readonly start: number;
  readonly end: number;
  readonly pieces: readonly Piece[];
}

export interface Rect {
  readonly x: number;
  readonly row: number;
  readonly width: number;
  readonly piece: Piece;
  /** The piece's first rect (where its label and tooltip go). */
  readonly first: boolean;
}

export interface RowStart {
  readonly row: number;
  /** The address at the row's left edge. */
  readonly addr: number;
}

export interface Layout {
  readonly sections: readonly Section[];
  readonly rects: readonly Rect[];
  readonly rowStarts: readonly RowStart[];
  /** Rows of pieces, and the row each section's label sits above. */
  readonly rows: number;
  readonly sectionRows: readonly number[];
  readonly gapMarks: readonly { readonly x: number; readonly row: number; readonly addr: number }[];
  readonly pxPerByte: number;
  readonly merged: 'none' | 'same-kind' | 'any-kind';
}

export const GAP_PX = 8;

const REGION_ORDER: Record<RegionKind, number> = { brk: 0, 'arena-heap': 1, mmapped: 2 };
const hex = (n: number): string => `0x${n.toString(16)}`;

/** The sections: the brk heap, each arena heap, and all mmapped chunks together (address order). */
function sectionsOf(map: HeapMap): { label: string; kind: RegionKind; regions: MapRegion[] }[] {
  const regions = [...map.regions].sort((a, b) => REGION_ORDER[a.kind] - REGION_ORDER[b.kind] || a.start - b.start);
  const out: { label: string; kind: RegionKind; regions: MapRegion[] }[] = [];
  for (const r of regions) {
    const last = out[out.length - 1];
    if (r.kind === 'mmapped' && last !== undefined && last.kind === 'mmapped') {
      last.regions.push(r);
      continue;
    }
    // All mmapped chunks share one section, whatever their own labels say.
    const label = r.kind === 'mmapped' ? 'mmapped chunks' : r.label ?? (r.kind === 'brk' ? 'brk heap' : 'arena heap');
    out.push({ label, kind: r.kind, regions: [r] });
  }
  return out;
}

/** A region's pieces in address order, bytes no chunk covers filled in as 'meta'. */
function piecesOf(region: MapRegion, firstAfterGap: boolean): Piece[] {
  const chunks = [...region.chunks].filter((c) => c.size > 0).sort((a, b) => a.addr - b.addr);
  const out: Piece[] = [];
  let at = region.start;
  let gap = firstAfterGap;
  const push = (addr: number, size: number, kind: ChunkKind): void => {
    out.push({ addr, size, kind, count: 1, afterGap: gap });
    gap = false;
  };
  for (const c of chunks) {
    const start = Math.max(c.addr, at);
    const end = Math.min(c.addr + c.size, region.end);
    if (end <= start) continue;
    if (start > at) push(at, start - at, 'meta');
    push(start, end - start, c.kind);
    at = end;
  }
  if (at < region.end) push(at, region.end - at, 'meta');
  return out;
}

const joinsRun = (runAddr: number, runSize: number, runKind: PieceKind, p: Piece, quantum: number, anyKind: boolean): boolean =>
  !p.afterGap && p.size < quantum && runAddr + runSize === p.addr && runSize + p.size <= quantum && (anyKind || runKind === p.kind);

/** How many pieces merge() would leave, without building them. */
function mergedCount(pieces: readonly Piece[], quantum: number, anyKind: boolean): number {
  let n = 0;
  let inRun = false;
  let runAddr = 0;
  let runSize = 0;
  let runKind: PieceKind = 'meta';
  for (const p of pieces) {
    if (inRun && joinsRun(runAddr, runSize, runKind, p, quantum, anyKind)) {
      runSize += p.size;
      if (runKind !== p.kind) runKind = 'mixed';
      continue;
    }
    n++;
    inRun = p.size < quantum;
    runAddr = p.addr;
    runSize = p.size;
    runKind = p.kind;
  }
  return n;
}

/** Merges runs of adjacent pieces smaller than `quantum` bytes (of one kind, or of any kind). */
function merge(pieces: readonly Piece[], quantum: number, anyKind: boolean): Piece[] {
  const out: Piece[] = [];
  let run: { addr: number; size: number; kind: PieceKind; count: number; afterGap: boolean } | undefined;
  for (const p of pieces) {
    if (run !== undefined && joinsRun(run.addr, run.size, run.kind, p, quantum, anyKind)) {
      if (run.kind !== p.kind) run.kind = 'mixed';
      run.size += p.size;
      run.count += p.count;
      continue;
    }
    if (run !== undefined) out.push(run);
    run = undefined;
    if (p.size < quantum) run = { addr: p.addr, size: p.size, kind: p.kind, count: p.count, afterGap: p.afterGap };
    else out.push(p);
  }
  if (run !== undefined) out.push(run);
  return out;
}

/** px per byte so that sum(max(minPx, size * p)) == length (bisection; deterministic). */
function solveScale(sizes: readonly number[], minPx: number, length: number): number {
  let lo = 0;
  let total = 0;
  for (const s of sizes) total += s;
  let hi = total > 0 ? length / total : 1;
  const width = (p: number): number => {
    let w = 0;
    for (const s of sizes) w += Math.max(minPx, s * p);
    return w;
  };
  for (let i = 0; i < 64; i++) {
    const mid = (lo + hi) / 2;
    if (width(mid) > length) hi = mid;
    else lo = mid;
  }
  return lo;
}

export interface LayoutOptions {
  readonly width: number;
  readonly maxRows: number;
  readonly minChunkPx: number;
}

export function layoutHeap(map: HeapMap, o: LayoutOptions): Layout {
  const groups = sectionsOf(map);
  let sections: Section[] = groups.map((g) => {
    const pieces: Piece[] = [];
    g.regions.forEach((r, i) => {
      const afterGap = i > 0 && g.regions[i - 1].end !== r.start; // adjacent mappings need no mark
      for (const p of piecesOf(r, afterGap)) pieces.push(p);
    });
    return { label: g.label, kind: g.kind, start: g.regions[0].start, end: g.regions[g.regions.length - 1].end, pieces };
  });

  const count = (ss: readonly Section[]): number => ss.reduce((n, s) => n + s.pieces.length, 0);
  const gaps = (ss: readonly Section[]): number => ss.reduce((n, s) => n + s.pieces.filter((p) => p.afterGap).length, 0);
  // Each section starts a row; its last row is partly empty: count one spare row per section.
  const capacity = (rows: number, ss: readonly Section[]): number => (rows - ss.length) * o.width - gaps(ss) * GAP_PX;

  // Too many pieces for maxRows even at minimum width: merge small neighbours, with the
  // smallest power-of-two quantum that makes them fit (same kind first, then any kind).
  // Merging never crosses a gap, so the gap count stays.
  let merged: Layout['merged'] = 'none';
  const fits = (pieces: number): boolean => pieces * o.minChunkPx * 3 <= capacity(o.maxRows, sections);
  if (!fits(count(sections))) {
    const totalBytes = sections.reduce((n, s) => n + s.pieces.reduce((m, p) => m + p.size, 0), 0);
    const countAt = (q: number, anyKind: boolean): number => sections.reduce((n, s) => n + mergedCount(s.pieces, q, anyKind), 0);
    let maxExp = 6;
    while (2 ** maxExp <= totalBytes) maxExp++;
    for (const anyKind of [false, true]) {
      if (!fits(countAt(2 ** maxExp, anyKind)) && !anyKind) continue;
      let lo = 6;
      let hi = maxExp; // fits at hi (or nothing fits better: take hi)
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (fits(countAt(2 ** mid, anyKind))) hi = mid;
        else lo = mid + 1;
      }
      const q = 2 ** hi;
      sections = sections.map((s) => ({ ...s, pieces: merge(s.pieces, q, anyKind) }));
      merged = anyKind ? 'any-kind' : 'same-kind';
      break;
    }
  }

  // Enough rows that minimum-width pieces fill about a third of them.
  const n = count(sections);
  const rowsNeeded = Math.ceil((n * o.minChunkPx * 3 + gaps(sections) * GAP_PX) / o.width) + sections.length;
  const rows = Math.min(o.maxRows, Math.max(rowsNeeded, sections.length * 2));
  const sizes = sections.flatMap((s) => s.pieces.map((p) => p.size));
  const pxPerByte = solveScale(sizes, o.minChunkPx, Math.max(capacity(rows, sections), n * o.minChunkPx));

  // Flow the pieces left to right, wrapping rows; each section starts on a fresh row.
  const rects: Rect[] = [];
  const rowStarts: RowStart[] = [];
  const sectionRows: number[] = [];
  const gapMarks: { x: number; row: number; addr: number }[] = [];
  let row = -1;
  let x = o.width;
  for (const s of sections) {
    row++;
    sectionRows.push(row);
    x = 0;
    let needStart = true;
    for (const p of s.pieces) {
      if (p.afterGap) {
        if (x + GAP_PX > o.width) {
          row++;
          x = 0;
          needStart = true;
        }
        gapMarks.push({ x, row, addr: p.addr });
        x += GAP_PX;
      }
      let w = Math.max(o.minChunkPx, p.size * pxPerByte);
      let done = 0;
      let first = true;
      while (w - done > 1e-9) {
        if (x >= o.width - 1e-9) {
          row++;
          x = 0;
          needStart = true;
        }
        if (needStart) {
          const frac = done / w;
          rowStarts.push({ row, addr: p.addr + Math.floor((frac * p.size) / 16) * 16 });
          needStart = false;
        }
        const take = Math.min(w - done, o.width - x);
        rects.push({ x, row, width: take, piece: p, first });
        first = false;
        x += take;
        done += take;
      }
      w = 0;
    }
  }
  return { sections, rects, rowStarts, rows: row + 1, sectionRows, gapMarks, pxPerByte, merged };
}

export { hex };
