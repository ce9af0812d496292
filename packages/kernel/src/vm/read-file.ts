// read(2) of a regular file: mm/filemap.c filemap_read(). The pages of [offset, offset + length)
// (clipped at the end of the file) are looked up in the page cache and read from disk when
// missing, charged to the reader's memcg, one frames request (GetFilePages) per 2^18 pages.
// Nothing is mapped: the reader's RSS does not change, and since no page fault happens the
// pages read count in pgpgin but not in pgmajfault or the task's maj_flt. When frames cannot
// give a page even after reclaim, the OOM killer runs as for a fault (the kernel's
// filemap_alloc_folio() under GFP_KERNEL does the same from the reader's context).
import { invalid, notFound } from '../common/index.js';
import type { TouchResult } from '../contracts/heap-sys.js';
import { PAGE_SIZE } from './constants.js';
import type { Ctx, Step } from './ctx.js';
import { FRAMES_BATCH, getFilePages } from './frames-port.js';
import { outOfMemory } from './oom-flow.js';
import { settle } from './settle.js';
import type { Task } from './types.js';

export function* readFile(ctx: Ctx, pid: number, fileId: number, offset: number, length: number): Step<TouchResult> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw invalid('vma.INVALID_ARGUMENT', 'offset and length must be non-negative integers (bytes)');
  }
  const file = ctx.w.files.get(fileId);
  if (!file) throw notFound('vma.NO_SUCH_FILE', `no file ${fileId}`);
  const end = Math.min(offset + length, file.sizeBytes);
  if (end <= offset) return { ok: true }; // at or past EOF: read() returns 0
  const kind = file.shmem ? 'shmem' : 'file';
  let index = Math.floor(offset / PAGE_SIZE);
  const last = Math.ceil(end / PAGE_SIZE);
  while (index < last) {
    const task = ctx.w.task(pid) as Task;
    if (task.state !== 'running' || task.killPending) return { ok: false, signal: 'SIGKILL', addr: index * PAGE_SIZE };
    const count = Math.min(last - index, FRAMES_BATCH);
    const g = yield* getFilePages(fileId, index, count, task.memcg, kind, false, true);
    // Pages read and then reclaimed in the same request are simply gone again: nobody maps them.
    if (g.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: g.evicted }), task.memcg);
    const got = Math.min(g.pfns.length, count);
    index += got;
    if (got === count) continue;
    if (!g.failed) throw new Error('frames read fewer file pages than asked without a failure');
    const out = yield* outOfMemory(ctx, pid, g.failed, 1, 'read');
    const addr = index * PAGE_SIZE;
    switch (out) {
      case 'retry':
        continue;
      case 'self-killed':
        return { ok: false, signal: 'SIGKILL', addr };
      case 'wait':
        return { ok: false, blocked: 'oom-wait', addr };
      case 'none':
        return { ok: false, blocked: 'oom-none', addr };
      case 'panic':
        return { ok: false, blocked: 'panic', addr };
    }
  }
  return { ok: true };
}
