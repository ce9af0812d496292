// Loads and stores as page spans: the address-ordered, disjoint runs of virtual pages a touch
// faults in, each read or written (a page both read and written counts as written).
import { PAGE_SIZE } from './constants.js';

export interface TouchSpan {
  /** Virtual page numbers [start, end). */
  readonly start: number;
  readonly end: number;
  readonly write: boolean;
}

interface Range {
  readonly addr: number;
  readonly length: number;
}

function toPages(ranges: readonly Range[]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of ranges) {
    if (r.length <= 0) continue;
    out.push([Math.floor(r.addr / PAGE_SIZE), Math.ceil((r.addr + r.length) / PAGE_SIZE)]);
  }
  out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [s, e] of out) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

export function touchSpans(writes: readonly Range[], reads: readonly Range[]): TouchSpan[] {
  const w = toPages(writes);
  const r = toPages(reads);
  const out: TouchSpan[] = w.map(([start, end]) => ({ start, end, write: true }));
  // reads minus writes
  let j = 0;
  for (const [s0, e] of r) {
    let s = s0;
    while (j < w.length && w[j][1] <= s) j++;
    let k = j;
    while (s < e) {
      if (k < w.length && w[k][0] < e) {
        if (w[k][0] > s) out.push({ start: s, end: w[k][0], write: false });
        s = Math.max(s, w[k][1]);
        k++;
      } else {
        out.push({ start: s, end: e, write: false });
        s = e;
      }
    }
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** Spans over [start, end) bytes with one access kind. */
export const spanOf = (start: number, end: number, write: boolean): TouchSpan[] =>
  end > start ? [{ start: Math.floor(start / PAGE_SIZE), end: Math.ceil(end / PAGE_SIZE), write }] : [];
