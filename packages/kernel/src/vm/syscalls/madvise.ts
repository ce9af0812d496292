// mm/madvise.c: MADV_DONTNEED drops the pages (the next touch finds zero pages or the file),
// MADV_FREE marks anonymous pages lazily freeable; hints the model has no use for are accepted.
// Unmapped parts of the range give -ENOMEM after the mapped parts were advised.
import { EINVAL, ENOMEM, MADV_DONTNEED, MADV_FREE } from '../../contracts/heap-sys.js';
import {
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  PAGE_SIZE,
  VM_LOCKED,
  VM_PFNMAP,
  VM_SHARED,
} from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { settle } from '../settle.js';
import type { Mm, Task } from '../types.js';
import { overlapping } from '../vma-list.js';

const HINTS = new Set([MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_REMOVE, 18, 19, 20, 21, 22, 23, 25]);

export function* sysMadvise(ctx: Ctx, task: Task, mm: Mm, start: number, length: number, advice: number): Step<number> {
  if (advice !== MADV_DONTNEED && advice !== MADV_FREE && !HINTS.has(advice)) return -EINVAL;
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
  if (length && !len) return -EINVAL;
  const end = start + len;
  if (end === start) return 0;
  const [a, b] = overlapping(mm.vmas, start, end);
  let unmapped = a === b;
  let at = start;
  for (let i = a; i < b; i++) {
    const v = mm.vmas[i];
    if (v.start > at) unmapped = true;
    at = v.end;
    const s = Math.max(start, v.start);
    const e = Math.min(end, v.end);
    if (advice === MADV_DONTNEED) {
      if (v.flags & (VM_LOCKED | VM_PFNMAP) || v.kind === 'special') return -EINVAL;
      yield* settle(ctx, ctx.emit({ type: 'PagesZapped', pid: task.pid, mmId: mm.id, start: s, end: e }), task.memcg);
    } else if (advice === MADV_FREE) {
      if (v.kind !== 'anon' || v.flags & VM_SHARED) return -EINVAL;
      yield* settle(ctx, ctx.emit({ type: 'PagesLazyFreed', pid: task.pid, mmId: mm.id, start: s, end: e }), task.memcg);
    }
  }
  if (at < end) unmapped = true;
  return unmapped ? -ENOMEM : 0;
}
