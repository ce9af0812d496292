// Handing what a change released back to frames: freed anonymous pages, dropped swap
// references, duplicated swap references, page-table pages, destroyed shmem objects, pages
// MADV_FREE made lazily freeable, kernel stacks of exited tasks.
import type { Ctx, Step } from './ctx.js';
import { dupSwapSlots, freeKernelStacks, freePageTables, freeSwapSlots, freeUserPages, markLazyFree, truncateShmem } from './frames-port.js';
import type { Release } from './mm-ops.js';

/** Tells frames about a release (only the parts that are not empty, in a fixed order). */
export function* settle(_ctx: Ctx, rel: Release | null, memcg: number): Step<void> {
  if (!rel) return;
  if (rel.dupSlots.length) yield* dupSwapSlots(rel.dupSlots);
  if (rel.anon.length) yield* freeUserPages(rel.anon);
  if (rel.slots.length) yield* freeSwapSlots(rel.slots);
  if (rel.tables.length) yield* freePageTables(memcg, rel.tables.length);
  for (const f of rel.shmemFiles) yield* truncateShmem(f);
  if (rel.lazy.length) yield* markLazyFree(rel.lazy, true);
  for (const k of rel.stacks) yield* freeKernelStacks(k.memcg, k.pages);
}
