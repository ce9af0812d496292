// Page tables: a sparse 4-level x86-64 table per mm, as the process really populates it.
//
// Only PTE tables hold entries: one Int32Array(512) per 2 MiB of address space that has been
// faulted in (2 KiB of host memory per table, 4 bytes per page). PMD and PUD tables are only
// counted (they exist when some PTE table under them does), which is what VmPTE and
// oom_badness's pgtables_bytes read: mm->pgtables_bytes counts PTE, PMD and PUD pages
// (include/linux/mm.h mm_inc_nr_ptes/pmds/puds), not the PGD. Each table page also has the pfn
// frames gave for it.
//
// A PTE is one int32:
//   0                 pte_none
//   -1                the zero page, read-only (an anonymous page that was only read)
//   <= -2             a swap entry: slot = -v - 2
//   > 0               present: (pfn + 1) * 8 + bits, bits = PTE_WRITE | PTE_ANON | PTE_LAZY
// so pfns up to 2^28 - 2 (1 TiB of RAM) fit.
import { PTE_TABLE_SHIFT, PMD_TABLE_SHIFT, PUD_TABLE_SHIFT, PTRS_PER_TABLE } from './constants.js';

export const PTE_NONE = 0;
export const PTE_ZERO = -1;
/** Writable: not write-protected (a COW-shared or read-faulted page is not). */
export const PTE_WRITE = 1;
/** Maps an anonymous page (also inside a private file mapping, after COW). */
export const PTE_ANON = 2;
/** MADV_FREE'd and clean: reclaim may drop it instead of swapping it. */
export const PTE_LAZY = 4;

export const MAX_PFN = 2 ** 28 - 2;

export const mkPte = (pfn: number, bits: number): number => (pfn + 1) * 8 + bits;
export const mkSwapPte = (slot: number): number => -slot - 2;
export const isPresent = (v: number): boolean => v > 0;
export const isSwap = (v: number): boolean => v <= -2;
export const ptePfn = (v: number): number => (v >>> 3) - 1;
export const pteBits = (v: number): number => v & 7;
export const swapSlot = (v: number): number => -v - 2;

export const pteIndex = (vpn: number): number => Math.floor(vpn / 2 ** PTE_TABLE_SHIFT);
export const pmdIndex = (vpn: number): number => Math.floor(vpn / 2 ** PMD_TABLE_SHIFT);
export const pudIndex = (vpn: number): number => Math.floor(vpn / 2 ** PUD_TABLE_SHIFT);

/** Page-table levels as events key them: key = index * 4 + level. */
export const LEVEL_PTE = 0;
export const LEVEL_PMD = 1;
export const LEVEL_PUD = 2;
export const tableKey = (level: number, index: number): number => index * 4 + level;
export const keyLevel = (key: number): number => key % 4;
export const keyIndex = (key: number): number => Math.floor(key / 4);

export interface PteTable {
  readonly entries: Int32Array;
  readonly pfn: number;
}

/** The page table of one mm as the model stores it. */
export class PageTable {
  readonly ptes = new Map<number, PteTable>();
  /** PMD/PUD table index -> the pfn of its page. */
  readonly pmds = new Map<number, number>();
  readonly puds = new Map<number, number>();
}

/**
 * Read and write access to one mm's page table. The base PageTable is written in place by
 * evolve(); decide() writes through a DraftPageTable that copies a PTE table before its first
 * write, so the state it reads from never changes.
 */
export interface PtView {
  table(index: number): Int32Array | undefined;
  /** An existing PTE table, ready to be written. */
  writable(index: number): Int32Array;
  tablePfn(index: number): number;
  addTable(index: number, pfn: number): Int32Array;
  removeTable(index: number): void;
  pmd(index: number): number | undefined;
  setPmd(index: number, pfn: number | undefined): void;
  pud(index: number): number | undefined;
  setPud(index: number, pfn: number | undefined): void;
  /** Existing PTE table indices, ascending. */
  tableIndices(): number[];
  pmdIndices(): number[];
  pudIndices(): number[];
}

const asc = (a: number, b: number): number => a - b;

export class BasePtView implements PtView {
  constructor(readonly pt: PageTable) {}
  table(index: number): Int32Array | undefined {
    return this.pt.ptes.get(index)?.entries;
  }
  writable(index: number): Int32Array {
    const t = this.pt.ptes.get(index);
    if (!t) throw new Error(`page table: no PTE table ${index}`);
    return t.entries;
  }
  tablePfn(index: number): number {
    return this.pt.ptes.get(index)?.pfn ?? -1;
  }
  addTable(index: number, pfn: number): Int32Array {
    const entries = new Int32Array(PTRS_PER_TABLE);
    this.pt.ptes.set(index, { entries, pfn });
    return entries;
  }
  removeTable(index: number): void {
    this.pt.ptes.delete(index);
  }
  pmd(index: number): number | undefined {
    return this.pt.pmds.get(index);
  }
  setPmd(index: number, pfn: number | undefined): void {
    if (pfn === undefined) this.pt.pmds.delete(index);
    else this.pt.pmds.set(index, pfn);
  }
  pud(index: number): number | undefined {
    return this.pt.puds.get(index);
  }
  setPud(index: number, pfn: number | undefined): void {
    if (pfn === undefined) this.pt.puds.delete(index);
    else this.pt.puds.set(index, pfn);
  }
  tableIndices(): number[] {
    return [...this.pt.ptes.keys()].sort(asc);
  }
  pmdIndices(): number[] {
    return [...this.pt.pmds.keys()].sort(asc);
  }
  pudIndices(): number[] {
    return [...this.pt.puds.keys()].sort(asc);
  }
}

/** Copy-on-write overlay over a base table (or over nothing, for an mm created in this decide). */
export class DraftPtView implements PtView {
  private readonly ptes = new Map<number, PteTable | null>();
  private readonly pmds = new Map<number, number | null>();
  private readonly puds = new Map<number, number | null>();
  constructor(private readonly base: PageTable | undefined) {}

  private baseTable(index: number): PteTable | undefined {
    return this.base?.ptes.get(index);
  }
  table(index: number): Int32Array | undefined {
    const o = this.ptes.get(index);
    if (o !== undefined) return o === null ? undefined : o.entries;
    return this.baseTable(index)?.entries;
  }
  writable(index: number): Int32Array {
    const o = this.ptes.get(index);
    if (o) return o.entries;
    if (o === null) throw new Error(`draft page table: PTE table ${index} was removed`);
    const b = this.baseTable(index);
    if (!b) throw new Error(`draft page table: no PTE table ${index}`);
    const copy = { entries: b.entries.slice(), pfn: b.pfn };
    this.ptes.set(index, copy);
    return copy.entries;
  }
  tablePfn(index: number): number {
    const o = this.ptes.get(index);
    if (o !== undefined) return o === null ? -1 : o.pfn;
    return this.baseTable(index)?.pfn ?? -1;
  }
  addTable(index: number, pfn: number): Int32Array {
    const entries = new Int32Array(PTRS_PER_TABLE);
    this.ptes.set(index, { entries, pfn });
    return entries;
  }
  removeTable(index: number): void {
    this.ptes.set(index, null);
  }
  pmd(index: number): number | undefined {
    const o = this.pmds.get(index);
    if (o !== undefined) return o === null ? undefined : o;
    return this.base?.pmds.get(index);
  }
  setPmd(index: number, pfn: number | undefined): void {
    this.pmds.set(index, pfn === undefined ? null : pfn);
  }
  pud(index: number): number | undefined {
    const o = this.puds.get(index);
    if (o !== undefined) return o === null ? undefined : o;
    return this.base?.puds.get(index);
  }
  setPud(index: number, pfn: number | undefined): void {
    this.puds.set(index, pfn === undefined ? null : pfn);
  }
  tableIndices(): number[] {
    return mergeKeys(this.base?.ptes, this.ptes);
  }
  pmdIndices(): number[] {
    return mergeKeys(this.base?.pmds, this.pmds);
  }
  pudIndices(): number[] {
    return mergeKeys(this.base?.puds, this.puds);
  }
}

function mergeKeys<V>(base: Map<number, unknown> | undefined, overlay: Map<number, V | null>): number[] {
  const out: number[] = [];
  if (base) for (const k of base.keys()) if (!overlay.has(k)) out.push(k);
  for (const [k, v] of overlay) if (v !== null) out.push(k);
  return out.sort(asc);
}
