// The heap aggregate's state on one machine: pid -> that process's allocator. Allocators are
// updated in place by evolve(); the state hash is a running AddHash of one digest per process,
// each recomputed only when a call changed that process (and then only over the pages the
// call changed).
import { AddHash, StateHasher } from '../../common/hash.js';
import { G } from '../process.js';
import { Ptmalloc } from '../ptmalloc.js';
import { NO_SYS } from './answer-sys.js';
import type { HeapCreated } from './types.js';

export interface HeapProcessEntry {
  readonly pid: number;
  readonly created: HeapCreated;
  readonly ptmalloc: Ptmalloc;
  /** The digest folded into HeapState.sum for this process. */
  digest: number;
}

export class HeapState {
  readonly procs = new Map<number, HeapProcessEntry>();
  readonly sum = new AddHash();

  add(created: HeapCreated): HeapProcessEntry {
    const ptmalloc = new Ptmalloc(
      {
        brkStart: created.brkStart,
        cpus: created.cpus,
        env: created.env,
        overcommitMemory: created.overcommitMemory,
        thpMode: created.thpMode,
        secure: created.secure,
      },
      NO_SYS,
    );
    const e: HeapProcessEntry = { pid: created.pid, created, ptmalloc, digest: NaN };
    this.procs.set(created.pid, e);
    this.rehash(e);
    return e;
  }

  remove(pid: number): void {
    const e = this.procs.get(pid);
    if (e === undefined) return;
    this.sum.remove(pid, e.digest);
    this.procs.delete(pid);
  }

  /** Recomputes one process's digest after a change and folds it into the sum. */
  rehash(e: HeapProcessEntry): void {
    const heap = e.ptmalloc.heap;
    const mem = heap.mem.digest();
    const h = new StateHasher();
    h.int(e.pid).int(mem.lo).int(mem.hi);
    const g = heap.g;
    const used = 64 + 4 * g[G.NThreads];
    for (let i = 0; i < Math.min(used, g.length); i++) h.int(Number.isSafeInteger(g[i]) ? g[i] : Math.min(g[i], Number.MAX_SAFE_INTEGER));
    for (const m of heap.mappings.all()) h.int(m.start).int(m.end).int(m.prot).int(m.use).int(m.aux);
    h.str(heap.dead ?? '');
    const d = h.digest();
    const v = parseInt(d.slice(0, 13), 16);
    if (!Number.isNaN(e.digest)) this.sum.remove(e.pid, e.digest);
    e.digest = v;
    this.sum.add(e.pid, v);
  }

  hash(): string {
    return this.sum.digest();
  }
}
