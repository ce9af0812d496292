// Changes to one mm shared by several events: replacing its VMAs (with vm_stat_account), zapping
// the PTEs of a range (unmap_page_range), freeing page tables nobody can use any more
// (free_pgtables), and tearing the whole mm down (exit_mmap).
import { PAGE_SIZE, PTRS_PER_TABLE, VM_LOCKED } from './constants.js';
import {
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  PTE_ANON,
  isPresent,
  isSwap,
  pmdIndex,
  pteBits,
  ptePfn,
  pteIndex,
  pudIndex,
  swapSlot,
  tableKey,
  type PtView,
} from './page-table.js';
import type { Mm, Vma } from './types.js';
import { overlapping, vmStat } from './vma-list.js';
import type { World } from './world.js';

/** What a change gave back: frames to free or unmap, swap slots to free, shmem objects destroyed. */
export interface Release {
  /** Anonymous pages whose last PTE went: freed. */
  readonly anon: number[];
  /** Page-cache (file/shmem) pages that lost one PTE each. */
  readonly file: number[];
  readonly slots: number[];
  readonly tables: number[];
  readonly shmemFiles: number[];
  /** Anonymous pages MADV_FREE made lazily freeable. */
  readonly lazy: number[];
  /** Swap slots that gained a PTE reference (an evicted page several PTEs mapped): DupSwapSlots. */
  readonly dupSlots: number[];
  /** Kernel stacks of exited tasks: pages to give back, by the memcg they were charged to. */
  readonly stacks: { readonly memcg: number; readonly pages: number }[];
  /** Committed_AS pages given back. */
  uncharged: number;
}

export const emptyRelease = (): Release => ({ anon: [], file: [], slots: [], tables: [], shmemFiles: [], lazy: [], dupSlots: [], stacks: [], uncharged: 0 });

export const releaseIsEmpty = (r: Release): boolean =>
  r.anon.length === 0 && r.slots.length === 0 && r.tables.length === 0 && r.shmemFiles.length === 0 && r.lazy.length === 0 && r.dupSlots.length === 0 && r.stacks.length === 0;

export function mergeRelease(into: Release, r: Release | null | undefined): Release {
  if (!r) return into;
  into.anon.push(...r.anon);
  into.file.push(...r.file);
  into.slots.push(...r.slots);
  into.tables.push(...r.tables);
  into.shmemFiles.push(...r.shmemFiles);
  into.lazy.push(...r.lazy);
  into.dupSlots.push(...r.dupSlots);
  into.stacks.push(...r.stacks);
  into.uncharged += r.uncharged;
  return into;
}

/** Replaces an mm's VMAs and recomputes what vm_stat_account() keeps (VmPeak first, as update_hiwater_vm does). */
export function withVmas(mm: Mm, vmas: readonly Vma[]): Mm {
  const s = vmStat(vmas);
  const hiwaterVm = s.totalVm < mm.totalVm ? Math.max(mm.hiwaterVm, mm.totalVm) : mm.hiwaterVm;
  return { ...mm, vmas, totalVm: s.totalVm, dataVm: s.dataVm, execVm: s.execVm, stackVm: s.stackVm, lockedVm: s.lockedVm, hiwaterVm };
}

/** update_hiwater_rss(): called before RSS goes down by munmap, madvise, exit (not by reclaim). */
export const hiwaterRss = (mm: Mm): number => Math.max(mm.hiwaterRss, mm.rssAnon + mm.rssFile + mm.rssShmem);

/** Drops one PTE reference to a swap slot (frames keeps the swap counts: FreeSwapSlots, one per PTE). */
export function dropSwapRef(_w: World, slot: number, rel: Release): void {
  rel.slots.push(slot);
}

/** Drops one PTE reference to an anonymous page; it is freed with its last. */
export function dropAnonRef(w: World, pfn: number, rel: Release): void {
  const m = w.shared.get(pfn) ?? 1;
  if (m > 2) w.shared.set(pfn, m - 1);
  else if (m === 2) w.shared.delete(pfn);
  else rel.anon.push(pfn);
}

/**
 * unmap_page_range() over [start, end) of the VMAs that cover it: every PTE becomes pte_none,
 * RSS and swap counters go down, anonymous pages and swap slots lose a reference.
 * `onlyAnon`: the oom_reaper's pass, which skips shared file and shmem mappings.
 */
export function zapRange(w: World, mmId: number, start: number, end: number, rel: Release, onlyPrivate = false): void {
  const mm = w.mm(mmId);
  const pt = w.pt(mmId);
  if (!mm || !pt) return;
  let dAnon = 0;
  let dFile = 0;
  let dShmem = 0;
  let dSwap = 0;
  // No page is mapped twice anywhere (no fork has shared one): skip the mapcount lookups.
  const noShared = w.shared.isEmpty();
  const [a, b] = overlapping(mm.vmas, start, end);
  for (let vi = a; vi < b; vi++) {
    const v = mm.vmas[vi];
    if (onlyPrivate && v.kind !== 'anon' && (v.flags & 0x8) !== 0) continue; // VM_SHARED
    if (v.kind === 'special') continue;
    const s = Math.max(start, v.start) / PAGE_SIZE;
    const e = Math.min(end, v.end) / PAGE_SIZE;
    const fileKind = v.kind === 'shmem' ? 'shmem' : 'file';
    forEachTable(pt, s, e, (idx, lo, hi) => {
      let tbl: Int32Array | null = null;
      const ro = pt.table(idx);
      if (!ro) return;
      for (let i = lo; i < hi; i++) {
        const old = ro[i];
        if (old === 0) continue;
        if (!tbl) tbl = pt.writable(idx);
        if (isPresent(old)) {
          const pfn = ptePfn(old);
          if (pteBits(old) & PTE_ANON) {
            if (noShared) rel.anon.push(pfn);
            else dropAnonRef(w, pfn, rel);
            dAnon++;
          } else {
            rel.file.push(pfn);
            if (fileKind === 'shmem') dShmem++;
            else dFile++;
          }
        } else if (isSwap(old)) {
          dropSwapRef(w, swapSlot(old), rel);
          dSwap++;
        }
        tbl[i] = 0;
        w.hashPte(mmId, idx * PTRS_PER_TABLE + i, old, 0);
      }
    });
  }
  if (dAnon || dFile || dShmem || dSwap) {
    const cur = w.mm(mmId) ?? mm;
    w.mms.set(mmId, { ...cur, rssAnon: cur.rssAnon - dAnon, rssFile: cur.rssFile - dFile, rssShmem: cur.rssShmem - dShmem, swapEnts: cur.swapEnts - dSwap });
  }
}

/** Calls fn(tableIndex, from, to) for each existing PTE table over virtual pages [s, e). */
export function forEachTable(pt: PtView, s: number, e: number, fn: (idx: number, lo: number, hi: number) => void): void {
  const first = pteIndex(s);
  const last = pteIndex(e - 1);
  const visit = (idx: number): void => {
    const base = idx * PTRS_PER_TABLE;
    fn(idx, Math.max(s, base) - base, Math.min(e, base + PTRS_PER_TABLE) - base);
  };
  if (last - first < 4096) {
    for (let idx = first; idx <= last; idx++) if (pt.table(idx)) visit(idx);
  } else {
    for (const idx of pt.tableIndices()) if (idx >= first && idx <= last) visit(idx);
  }
}

const spanFree = (vmas: readonly Vma[], start: number, end: number): boolean => {
  const [a, b] = overlapping(vmas, start, end);
  return a === b;
};

/**
 * free_pgtables(): after [start, end) was unmapped, page-table pages whose whole span no VMA
 * overlaps any more are freed (PTE tables per 2 MiB, PMD per 1 GiB, PUD per 512 GiB).
 */
export function freePageTables(w: World, mmId: number, start: number, end: number, rel: Release): void {
  const mm = w.mm(mmId);
  const pt = w.pt(mmId);
  if (!mm || !pt || end <= start) return;
  const s = start / PAGE_SIZE;
  const e = end / PAGE_SIZE;
  let dPte = 0;
  let dPmd = 0;
  let dPud = 0;
  const levels: [number, number][] = [
    [LEVEL_PTE, 9],
    [LEVEL_PMD, 18],
    [LEVEL_PUD, 27],
  ];
  for (const [level, shift] of levels) {
    const span = 2 ** shift;
    const first = Math.floor(s / span);
    const last = Math.floor((e - 1) / span);
    const keys =
      last - first < 4096
        ? range(first, last)
        : (level === LEVEL_PTE ? pt.tableIndices() : level === LEVEL_PMD ? pt.pmdIndices() : pt.pudIndices()).filter((k) => k >= first && k <= last);
    for (const idx of keys) {
      const lo = idx * span * PAGE_SIZE;
      const hi = (idx + 1) * span * PAGE_SIZE;
      if (!spanFree(mm.vmas, lo, hi)) continue;
      if (level === LEVEL_PTE) {
        const pfn = pt.tablePfn(idx);
        if (pfn < 0) continue;
        const tbl = pt.table(idx);
        if (tbl) for (let i = 0; i < PTRS_PER_TABLE; i++) if (tbl[i] !== 0) w.hashPte(mmId, idx * PTRS_PER_TABLE + i, tbl[i], 0);
        pt.removeTable(idx);
        rel.tables.push(pfn);
        dPte++;
      } else if (level === LEVEL_PMD) {
        const pfn = pt.pmd(idx);
        if (pfn === undefined) continue;
        pt.setPmd(idx, undefined);
        rel.tables.push(pfn);
        dPmd++;
      } else {
        const pfn = pt.pud(idx);
        if (pfn === undefined) continue;
        pt.setPud(idx, undefined);
        rel.tables.push(pfn);
        dPud++;
      }
    }
  }
  if (dPte || dPmd || dPud) {
    const cur = w.mm(mmId) ?? mm;
    w.mms.set(mmId, { ...cur, ptePages: cur.ptePages - dPte, pmdPages: cur.pmdPages - dPmd, pudPages: cur.pudPages - dPud });
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/** missingTables() for runs of pages (a table index at a time, not a page at a time). */
export function missingTablesForRuns(pt: PtView | undefined, runs: readonly { readonly vpn: number; readonly count: number }[]): number[] {
  const firsts: number[] = [];
  let lastIdx = -1;
  for (const r of runs) {
    const a = pteIndex(r.vpn);
    const z = pteIndex(r.vpn + r.count - 1);
    for (let idx = Math.max(a, lastIdx + 1); idx <= z; idx++) firsts.push(Math.max(idx * PTRS_PER_TABLE, r.vpn));
    lastIdx = Math.max(lastIdx, z);
  }
  return missingTables(pt, firsts);
}

/** The page-table pages (as event keys, outermost first) a fault at each vpn would have to add. */
export function missingTables(pt: PtView | undefined, vpns: Iterable<number>): number[] {
  const keys: number[] = [];
  const seen = new Set<number>();
  for (const vpn of vpns) {
    const pud = pudIndex(vpn);
    const pmd = pmdIndex(vpn);
    const pte = pteIndex(vpn);
    const kPud = tableKey(LEVEL_PUD, pud);
    const kPmd = tableKey(LEVEL_PMD, pmd);
    const kPte = tableKey(LEVEL_PTE, pte);
    if (seen.has(kPte)) continue;
    if ((!pt || pt.pud(pud) === undefined) && !seen.has(kPud)) {
      keys.push(kPud);
      seen.add(kPud);
    }
    if ((!pt || pt.pmd(pmd) === undefined) && !seen.has(kPmd)) {
      keys.push(kPmd);
      seen.add(kPmd);
    }
    if (!pt || pt.tablePfn(pte) < 0) keys.push(kPte);
    seen.add(kPte);
  }
  return keys;
}

/** exit_mmap(): every PTE zapped, every page table freed, every VMA's charge given back. */
export function teardownMm(w: World, mmId: number, rel: Release): void {
  const mm = w.mm(mmId);
  if (!mm) return;
  for (const v of mm.vmas) zapRange(w, mmId, v.start, v.end, rel);
  const after = w.mm(mmId) ?? mm;
  w.mms.set(mmId, { ...after, vmas: [] });
  freePageTables(w, mmId, 0, 2 ** 47, rel);
  for (const v of mm.vmas) unlinkVma(w, v, rel);
  rel.uncharged += vmStat(mm.vmas).accounted;
  w.dropPt(mmId);
  w.mms.delete(mmId);
}

/**
 * A VMA went away (after the mm's VMA list was updated): a shmem object that no VMA of any mm
 * maps any more is destroyed, giving back its Committed_AS charge and its pages.
 */
export function unlinkVma(w: World, v: Vma, rel: Release): void {
  if (v.kind !== 'shmem') return;
  const f = w.files.get(v.file);
  if (!f || rel.shmemFiles.includes(f.id)) return;
  for (const mm of w.mms.values()) for (const x of mm.vmas) if (x.kind === 'shmem' && x.file === f.id) return;
  rel.uncharged += f.chargedPages;
  rel.shmemFiles.push(f.id);
  w.files.delete(f.id);
}

export const isLocked = (v: Vma): boolean => (v.flags & VM_LOCKED) !== 0;
