// /proc/<pid>/smaps: fs/proc/task_mmu.c show_smap(), one block per VMA: the maps line, Size,
// KernelPageSize, MMUPageSize, then __show_smap()'s counters (the ones smaps_rollup sums, without
// its Pss_Anon/Pss_File/Pss_Shmem), THPeligible and VmFlags. The counters come from the same
// per-VMA walk as smaps_rollup (procfs/pid smapsTotals, one VMA at a time). THP is not modelled
// (THPeligible 0, AnonHugePages 0); VmFlags shows the VM_* bits vm keeps (no soft-dirty "sd").
import { notFound } from '@mmsim/kernel';
import { formatMapsLine, mapsLines, smapsTotals } from '@mmsim/kernel/procfs/pid';
import type { VmState } from '@mmsim/kernel/vm';

const PSS_SHIFT = 12;

/** show_smap_vma_flags(): the two-letter mnemonics of the VM_* bits, in bit order. */
const MNEMONICS: readonly (readonly [number, string])[] = [
  [0x1, 'rd'], [0x2, 'wr'], [0x4, 'ex'], [0x8, 'sh'], [0x10, 'mr'], [0x20, 'mw'], [0x40, 'me'], [0x80, 'ms'],
  [0x100, 'gd'], [0x400, 'pf'], [0x2000, 'lo'], [0x4000, 'io'], [0x8000, 'sr'], [0x10000, 'rr'], [0x20000, 'dc'],
  [0x40000, 'de'], [0x80000, 'lf'], [0x100000, 'ac'], [0x200000, 'nr'], [0x400000, 'ht'], [0x800000, 'sf'],
  [0x2000000, 'wf'], [0x4000000, 'dd'], [0x10000000, 'mm'], [0x20000000, 'hg'], [0x40000000, 'nh'],
];

const line = (label: string, kb: number): string => `${(label + ':').padEnd(16, ' ')}${String(kb).padStart(8, ' ')} kB`;

export function renderSmaps(s: VmState, pid: number): string {
  const task = s.tasks.get(pid);
  if (!task) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  const mm = task.mmId ? s.mms.get(task.mmId) : undefined;
  if (!mm) return '';
  const lines = mapsLines(s, mm);
  const out: string[] = [];
  mm.vmas.forEach((v, k) => {
    const t = smapsTotals(s, { ...mm, vmas: [v] });
    const kb = (b: number): number => Math.floor(b / 1024);
    const pkb = (b: number): number => Math.floor(b / 2 ** PSS_SHIFT / 1024);
    out.push(
      formatMapsLine(lines[k]),
      line('Size', (v.end - v.start) / 1024),
      line('KernelPageSize', 4),
      line('MMUPageSize', 4),
      line('Rss', kb(t.rss)),
      line('Pss', pkb(t.pss)),
      line('Pss_Dirty', pkb(t.pssDirty)),
      line('Shared_Clean', kb(t.sharedClean)),
      line('Shared_Dirty', kb(t.sharedDirty)),
      line('Private_Clean', kb(t.privateClean)),
      line('Private_Dirty', kb(t.privateDirty)),
      line('Referenced', kb(t.rss)),
      line('Anonymous', kb(t.anonymous)),
      line('KSM', 0),
      line('LazyFree', kb(t.lazyFree)),
      line('AnonHugePages', 0),
      line('ShmemPmdMapped', 0),
      line('FilePmdMapped', 0),
      line('Shared_Hugetlb', 0),
      line('Private_Hugetlb', 0),
      line('Swap', kb(t.swap)),
      line('SwapPss', kb(t.swap)),
      line('Locked', pkb(t.locked)),
      `THPeligible:    0`,
      `VmFlags: ${MNEMONICS.filter(([bit]) => (v.flags & bit) !== 0).map(([, m]) => m).join(' ')} `,
    );
  });
  return out.map((l) => l + '\n').join('');
}
