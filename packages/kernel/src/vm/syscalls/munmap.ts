// mm/mmap.c do_vmi_munmap(): 0 or -EINVAL. Unmapping nothing is not an error.
import { EINVAL } from '../../contracts/heap-sys.js';
import { PAGE_SIZE, TASK_SIZE } from '../constants.js';
import type { Ctx, Step } from '../ctx.js';
import { settle } from '../settle.js';
import type { Mm, Task } from '../types.js';
import { overlapping } from '../vma-list.js';

export function* sysMunmap(ctx: Ctx, task: Task, mm: Mm, start: number, length: number): Step<number> {
  if (start % PAGE_SIZE !== 0 || start > TASK_SIZE || length > TASK_SIZE - start) return -EINVAL;
  const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
  if (len === 0) return -EINVAL;
  const [a, b] = overlapping(mm.vmas, start, start + len);
  if (a === b) return 0;
  yield* settle(ctx, ctx.emit({ type: 'VmaUnmapped', pid: task.pid, mmId: mm.id, start, end: start + len }), task.memcg);
  return 0;
}
