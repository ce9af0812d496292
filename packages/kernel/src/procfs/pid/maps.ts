// fs/proc/task_mmu.c show_map_vma(): /proc/<pid>/maps.
//   start-end perms offset major:minor inode [padding to column 73] name
// perms: r/w/x and p (private) or s (VM_MAYSHARE); offset: vm_pgoff << PAGE_SHIFT for file
// mappings, 0 for anonymous ones; names: the file's path, [heap] (the VMA over the initial brk
// area), [stack] (the VMA holding mm->start_stack), [vdso]/[vvar]/[vvar_vclock]; the gate VMA
// [vsyscall] comes last.
import { notFound } from '../../common/index.js';
import { PAGE_SIZE, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '../../vm/constants.js';
import type { FileInfo, Mm, Vma, VmState } from '../../vm/types.js';
import { hex } from './format.js';

export interface MapsLine {
  readonly start: number;
  readonly end: number;
  readonly perms: string;
  readonly offset: number;
  readonly dev: number;
  readonly inode: number;
  readonly name: string;
}

/** vma_is_initial_heap() / vma_is_initial_stack() (include/linux/mm.h). */
export const isHeap = (mm: Mm, v: Vma): boolean => v.start < mm.brk && v.end > mm.startBrk;
export const isStack = (mm: Mm, v: Vma): boolean => v.start <= mm.startStack && v.end >= mm.startStack;

export function vmaName(mm: Mm, v: Vma, file: FileInfo | undefined): string {
  if (v.kind === 'file' || v.kind === 'shmem') return file?.path ?? '';
  if (v.name) return v.name;
  if (isHeap(mm, v)) return '[heap]';
  if (isStack(mm, v)) return '[stack]';
  return '';
}

export function mapsLines(s: VmState, mm: Mm): MapsLine[] {
  const out: MapsLine[] = mm.vmas.map((v) => {
    const f = v.file ? s.files.get(v.file) : undefined;
    const backed = v.kind === 'file' || v.kind === 'shmem';
    return {
      start: v.start,
      end: v.end,
      perms: (v.flags & VM_READ ? 'r' : '-') + (v.flags & VM_WRITE ? 'w' : '-') + (v.flags & VM_EXEC ? 'x' : '-') + (v.flags & VM_MAYSHARE ? 's' : 'p'),
      offset: backed ? v.pgoff * PAGE_SIZE : 0,
      dev: backed && f ? f.dev : 0,
      inode: backed && f ? f.inode : 0,
      name: vmaName(mm, v, f),
    };
  });
  // The vsyscall page (vsyscall=xonly): execute-only, above the user address space.
  out.push({ start: 0xffffffffff600000, end: 0xffffffffff601000, perms: '--xp', offset: 0, dev: 0, inode: 0, name: '[vsyscall]' });
  return out;
}

/** One line as show_map_vma() prints it (seq_setwidth(72), seq_pad(' ')). */
export function formatMapsLine(l: MapsLine): string {
  const head = `${hex(l.start, 8)}-${hex(l.end, 8)} ${l.perms} ${hex(l.offset, 8)} ${hex(Math.floor(l.dev / 256), 2)}:${hex(l.dev % 256, 2)} ${l.inode} `;
  return l.name ? head.padEnd(72, ' ') + ' ' + l.name : head;
}

export function renderMaps(s: VmState, pid: number): string {
  const t = s.tasks.get(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  const mm = t.mmId ? s.mms.get(t.mmId) : undefined;
  if (!mm) return '';
  return mapsLines(s, mm).map((l) => formatMapsLine(l) + '\n').join('');
}
