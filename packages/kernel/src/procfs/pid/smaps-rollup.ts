// fs/proc/task_mmu.c show_smaps_rollup(): every VMA's smaps summed. A page is Shared when more
// than one PTE (of any process) maps it (page_mapcount >= 2), else Private; Pss gives each
// mapper PAGE_SIZE / mapcount (in the kernel's fixed point, PSS_SHIFT 12). Anonymous pages are
// dirty; file pages are dirty when written through a shared mapping. The zero page is not
// counted. SwapPss is taken as Swap (swap counts live in frames).
import { notFound } from '../../common/index.js';
import { PAGE_SIZE, PTRS_PER_TABLE, VM_LOCKED, VM_SHARED } from '../../vm/constants.js';
import { PTE_ANON, PTE_LAZY, PTE_WRITE, isPresent, isSwap, pteBits, ptePfn } from '../../vm/page-table.js';
import type { Mm, VmState } from '../../vm/types.js';
import { hex, smapsLine } from './format.js';

const PSS_SHIFT = 12;

/** How many PTEs of all mms map each page-cache page (file and shmem), for page_mapcount(). */
function fileMapcounts(s: VmState): Map<number, number> {
  const counts = new Map<number, number>();
  for (const mm of s.mms.values()) {
    const pt = s.pts.get(mm.id);
    if (!pt) continue;
    for (const v of mm.vmas) {
      if (v.kind !== 'file' && v.kind !== 'shmem') continue;
      forPtes(pt.ptes, v.start, v.end, (e) => {
        if (isPresent(e) && !(pteBits(e) & PTE_ANON)) counts.set(ptePfn(e), (counts.get(ptePfn(e)) ?? 0) + 1);
      });
    }
  }
  return counts;
}

function forPtes(ptes: Map<number, { entries: Int32Array }>, start: number, end: number, fn: (e: number) => void): void {
  const s = start / PAGE_SIZE;
  const e = end / PAGE_SIZE;
  const first = Math.floor(s / PTRS_PER_TABLE);
  const last = Math.floor((e - 1) / PTRS_PER_TABLE);
  const visit = (idx: number): void => {
    const t = ptes.get(idx);
    if (!t) return;
    const lo = Math.max(s, idx * PTRS_PER_TABLE) - idx * PTRS_PER_TABLE;
    const hi = Math.min(e, (idx + 1) * PTRS_PER_TABLE) - idx * PTRS_PER_TABLE;
    for (let i = lo; i < hi; i++) fn(t.entries[i]);
  };
  if (last - first < 4096) for (let idx = first; idx <= last; idx++) visit(idx);
  else for (const idx of [...ptes.keys()].sort((a, b) => a - b)) if (idx >= first && idx <= last) visit(idx);
}

export interface SmapsTotals {
  rss: number;
  pss: number;
  pssDirty: number;
  pssAnon: number;
  pssFile: number;
  pssShmem: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anonymous: number;
  lazyFree: number;
  swap: number;
  locked: number;
}

/** The sums in bytes (Pss in bytes << PSS_SHIFT, as the kernel accumulates it). */
export function smapsTotals(s: VmState, mm: Mm): SmapsTotals {
  const fileCounts = fileMapcounts(s);
  const t: SmapsTotals = { rss: 0, pss: 0, pssDirty: 0, pssAnon: 0, pssFile: 0, pssShmem: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anonymous: 0, lazyFree: 0, swap: 0, locked: 0 };
  const pt = s.pts.get(mm.id);
  if (!pt) return t;
  for (const v of mm.vmas) {
    if (v.kind === 'special') continue;
    const locked = (v.flags & VM_LOCKED) !== 0;
    forPtes(pt.ptes, v.start, v.end, (e) => {
      if (isSwap(e)) {
        t.swap += PAGE_SIZE;
        return;
      }
      if (!isPresent(e)) return;
      const pfn = ptePfn(e);
      const anon = (pteBits(e) & PTE_ANON) !== 0;
      const mapcount = anon ? (s.shared.get(pfn) ?? 1) : (fileCounts.get(pfn) ?? 1);
      const dirty = anon ? !(e & PTE_LAZY) : (e & PTE_WRITE) !== 0 && (v.flags & VM_SHARED) !== 0;
      const pss = Math.floor((PAGE_SIZE * 2 ** PSS_SHIFT) / mapcount);
      t.rss += PAGE_SIZE;
      t.pss += pss;
      if (dirty) t.pssDirty += pss;
      if (anon) t.pssAnon += pss;
      else if (v.kind === 'shmem') t.pssShmem += pss;
      else t.pssFile += pss;
      if (mapcount >= 2) {
        if (dirty) t.sharedDirty += PAGE_SIZE;
        else t.sharedClean += PAGE_SIZE;
      } else if (dirty) t.privateDirty += PAGE_SIZE;
      else t.privateClean += PAGE_SIZE;
      if (anon) t.anonymous += PAGE_SIZE;
      if (anon && e & PTE_LAZY) t.lazyFree += PAGE_SIZE;
      if (locked) t.locked += pss;
    });
  }
  return t;
}

export function renderSmapsRollup(s: VmState, pid: number): string {
  const task = s.tasks.get(pid);
  if (!task) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  const mm = task.mmId ? s.mms.get(task.mmId) : undefined;
  if (!mm || mm.vmas.length === 0) return '';
  const t = smapsTotals(s, mm);
  const kb = (b: number): number => Math.floor(b / 1024);
  const pkb = (b: number): number => Math.floor(b / 2 ** PSS_SHIFT / 1024);
  const head = `${hex(mm.vmas[0].start, 8)}-${hex(mm.vmas[mm.vmas.length - 1].end, 8)} ---p 00000000 00:00 0 `.padEnd(72, ' ') + ' [rollup]';
  return (
    [
      head,
      smapsLine('Rss', kb(t.rss)),
      smapsLine('Pss', pkb(t.pss)),
      smapsLine('Pss_Dirty', pkb(t.pssDirty)),
      smapsLine('Pss_Anon', pkb(t.pssAnon)),
      smapsLine('Pss_File', pkb(t.pssFile)),
      smapsLine('Pss_Shmem', pkb(t.pssShmem)),
      smapsLine('Shared_Clean', kb(t.sharedClean)),
      smapsLine('Shared_Dirty', kb(t.sharedDirty)),
      smapsLine('Private_Clean', kb(t.privateClean)),
      smapsLine('Private_Dirty', kb(t.privateDirty)),
      smapsLine('Referenced', kb(t.rss)),
      smapsLine('Anonymous', kb(t.anonymous)),
      smapsLine('KSM', 0),
      smapsLine('LazyFree', kb(t.lazyFree)),
      smapsLine('AnonHugePages', 0),
      smapsLine('ShmemPmdMapped', 0),
      smapsLine('FilePmdMapped', 0),
      smapsLine('Shared_Hugetlb', 0),
      smapsLine('Private_Hugetlb', 0),
      smapsLine('Swap', kb(t.swap)),
      smapsLine('SwapPss', kb(t.swap)),
      smapsLine('Locked', pkb(t.locked)),
    ].join('\n') + '\n'
  );
}
