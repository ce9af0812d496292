// Compact outcomes. A 1 GiB fault grants 262144 pages; events record them as runs of
// consecutive pfns (and owners as runs of consecutive page indexes), so the event stays small.
import type { PageKind } from '../contracts/frames.js';

/** pfn, pfn + 1, ..., pfn + count - 1. */
export interface PfnRun {
  readonly pfn: number;
  readonly count: number;
}

/** `count` pages of one owner at consecutive indexes. */
export interface OwnerRun {
  readonly kind: PageKind;
  readonly owner: number;
  readonly index: number;
  readonly count: number;
}

/**
 * Pages reclaim (or drop_caches, or a truncate) took away: run k is the page at pfn + k,
 * owned by (kind, owner, index + k), written to swap slot `slot + k`, or dropped (slot -1).
 */
export interface EvictedRun {
  readonly pfn: number;
  readonly count: number;
  readonly kind: PageKind;
  readonly owner: number;
  readonly index: number;
  readonly slot: number;
}

export class PfnRuns {
  readonly runs: PfnRun[] = [];
  private start = -1;
  private count = 0;
  total = 0;

  push(pfn: number): void {
    this.total++;
    if (this.count > 0 && pfn === this.start + this.count) {
      this.count++;
      return;
    }
    this.flush();
    this.start = pfn;
    this.count = 1;
  }

  /** pfn .. pfn + n - 1. */
  pushRange(pfn: number, n: number): void {
    this.total += n;
    if (this.count > 0 && pfn === this.start + this.count) {
      this.count += n;
      return;
    }
    this.flush();
    this.start = pfn;
    this.count = n;
  }

  flush(): void {
    if (this.count > 0) this.runs.push({ pfn: this.start, count: this.count });
    this.count = 0;
  }

  done(): PfnRun[] {
    this.flush();
    return this.runs;
  }
}

export class EvictionLog {
  private readonly runs: EvictedRun[] = [];
  private cur: { pfn: number; count: number; kind: PageKind; owner: number; index: number; slot: number } | null = null;
  total = 0;

  push(pfn: number, kind: PageKind, owner: number, index: number, slot: number): void {
    this.total++;
    const c = this.cur;
    if (c !== null && c.kind === kind && c.owner === owner && pfn === c.pfn + c.count && index === c.index + c.count
      && (slot === -1 ? c.slot === -1 : c.slot !== -1 && slot === c.slot + c.count)) {
      c.count++;
      return;
    }
    if (c !== null) this.runs.push({ ...c });
    this.cur = { pfn, count: 1, kind, owner, index, slot };
  }

  done(): EvictedRun[] {
    if (this.cur !== null) this.runs.push({ ...this.cur });
    this.cur = null;
    return this.runs;
  }
}

export function expandPfnRuns(runs: readonly PfnRun[]): number[] {
  const out: number[] = [];
  for (const r of runs) for (let k = 0; k < r.count; k++) out.push(r.pfn + k);
  return out;
}

export function countRuns(runs: readonly { readonly count: number }[]): number {
  return runs.reduce((t, r) => t + r.count, 0);
}

export function toPfnRuns(pfns: readonly number[]): PfnRun[] {
  const b = new PfnRuns();
  for (const p of pfns) b.push(p);
  return b.done();
}
