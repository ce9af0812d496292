// Replays a heaptrace on one simulated process whose program break starts at the trace's
// heap_base, against a LocalSys, and returns the simulator's own trace: the same calls with
// our results, then mallinfo2, final_brk and (like heapprog-run) the resident pages of the brk
// heap and of the mmapped chunks still live at the end.
//
// Real addresses are mapped to ours by position: a pointer argument names the block of the
// latest call that returned that real address. The mapping is resolved before the replay
// (prepareReplay), so the replay loop itself only indexes arrays.
import { isProcessDeath, Ptmalloc, type MemalignVariant } from '../ptmalloc.js';
import { LocalSys } from './local-sys.js';
import { Op, returnsPointer, type ParsedTrace, type TraceCalls } from './types.js';

export interface ReplayOptions {
  /** The process environment (MALLOC_*_, GLIBC_TUNABLES). */
  readonly env?: readonly string[];
  /** Online CPUs (arena limit 8 x cpus); default 2. */
  readonly cpus?: number;
  readonly mmapBase?: number;
  /** LocalSys's largest single brk growth or mmap (default 64 GiB). */
  readonly maxRequest?: number;
  readonly overcommitMemory?: number;
  readonly thpMode?: 'always' | 'madvise' | 'never';
  /**
   * A thread other than the first exits right after its last call (default true): its tcache
   * goes back to its arena (tcache_thread_shutdown frees it with internal calls a trace does
   * not see) and the arena to the free list. sort.ht.gz needs this: its worker was joined.
   */
  readonly exitThreadsAfterLastCall?: boolean;
  /** Ptmalloc's fastPaths (default true). */
  readonly fastPaths?: boolean;
}

/** A trace with its pointer arguments resolved to result slots. */
export interface PreparedReplay {
  readonly trace: ParsedTrace;
  /** Per call: the slot its pointer argument names (-1: none or unknown). */
  readonly argSlot: Int32Array;
  /** Per call: the slot its result fills (-1: no pointer result). */
  readonly resSlot: Int32Array;
  /** Per call: 1 when it is the last call of a thread other than the first. */
  readonly lastOfThread: Uint8Array;
  readonly slots: number;
}

export interface ReplayResult {
  /** The simulator's trace (the calls with our own addresses and results). */
  readonly trace: ParsedTrace;
  readonly ptmalloc: Ptmalloc;
  readonly sys: LocalSys;
  /** Calls replayed (all, unless the process died). */
  readonly replayed: number;
  /** Set when glibc aborted or the process faulted: the call index and why. */
  readonly died: { readonly index: number; readonly reason: string } | null;
}

export function prepareReplay(trace: ParsedTrace): PreparedReplay {
  const t = trace.calls;
  const argSlot = new Int32Array(t.length).fill(-1);
  const resSlot = new Int32Array(t.length).fill(-1);
  const latest = new Map<number, number>();
  let slots = 0;
  const lastIndex = new Map<number, number>();
  for (let i = 0; i < t.length; i++) if (t.tid[i] !== 0) lastIndex.set(t.tid[i], i);
  const lastOfThread = new Uint8Array(t.length);
  for (const i of lastIndex.values()) lastOfThread[i] = 1;
  for (let i = 0; i < t.length; i++) {
    const op = t.op[i];
    if (op === Op.Free || op === Op.Realloc || op === Op.Write) {
      const a = t.a[i];
      if (a !== 0) argSlot[i] = latest.get(a) ?? -1;
    }
    if (returnsPointer(op)) {
      const r = t.result[i];
      if (r !== 0 && !Number.isNaN(r)) {
        resSlot[i] = slots;
        latest.set(r, slots);
        slots++;
      }
    }
  }
  return { trace, argSlot, resSlot, lastOfThread, slots };
}

const MEMALIGN_VARIANT: Readonly<Record<number, MemalignVariant>> = {
  [Op.Memalign]: 'memalign',
  [Op.AlignedAlloc]: 'aligned_alloc',
  [Op.PosixMemalign]: 'posix_memalign',
  [Op.Valloc]: 'valloc',
  [Op.Pvalloc]: 'pvalloc',
};

export function replayTrace(input: ParsedTrace | PreparedReplay, options: ReplayOptions = {}): ReplayResult {
  const prep = 'argSlot' in input ? input : prepareReplay(input);
  const real = prep.trace;
  const t = real.calls;
  const sys = new LocalSys({ brkStart: real.heapBase, mmapBase: options.mmapBase, maxRequest: options.maxRequest });
  const pm = new Ptmalloc(
    { brkStart: real.heapBase, cpus: options.cpus ?? 2, env: options.env, overcommitMemory: options.overcommitMemory, thpMode: options.thpMode, touchesPersist: true, fastPaths: options.fastPaths },
    sys,
  );
  const slotPtr = new Float64Array(prep.slots);
  const live = new Uint8Array(prep.slots);
  const { argSlot, resSlot, lastOfThread } = prep;
  // The simulator's trace has the same calls: its columns start as copies, and the loop fills
  // in our pointer arguments and results.
  const n = t.length;
  const out: TraceCalls = {
    length: n,
    op: t.op.slice(0, n),
    tid: t.tid.slice(0, n),
    a: t.a.slice(0, n),
    b: t.b.slice(0, n),
    c: t.c.slice(0, n),
    result: new Float64Array(n).fill(NaN),
  };
  const op = t.op, tidOf = t.tid, argA = t.a, argB = t.b, argC = t.c, outA = out.a, result = out.result;
  let died: ReplayResult['died'] = null;
  const exitThreads = options.exitThreadsAfterLastCall ?? true;
  let i = 0;
  try {
    for (; i < n; i++) {
      const tid = tidOf[i];
      const as = argSlot[i];
      let r = NaN;
      switch (op[i]) {
        case Op.Malloc:
          r = pm.malloc(tid, argA[i]);
          break;
        case Op.Free: {
          const ptr = as >= 0 ? slotPtr[as] : argA[i];
          pm.free(tid, ptr);
          outA[i] = ptr;
          if (as >= 0) live[as] = 0;
          break;
        }
        case Op.Calloc:
          r = pm.calloc(tid, argA[i], argB[i]);
          break;
        case Op.Realloc: {
          const ptr = as >= 0 ? slotPtr[as] : argA[i];
          r = pm.realloc(tid, ptr, argB[i]);
          outA[i] = ptr;
          if (as >= 0) live[as] = 0;
          break;
        }
        case Op.Memalign:
        case Op.AlignedAlloc:
        case Op.PosixMemalign:
          r = pm.memalign(tid, MEMALIGN_VARIANT[op[i]], argA[i], argB[i]);
          break;
        case Op.Valloc:
        case Op.Pvalloc:
          r = pm.memalign(tid, MEMALIGN_VARIANT[op[i]], 4096, argA[i]);
          break;
        case Op.Mallopt:
          r = pm.mallopt(tid, argA[i], argB[i]);
          break;
        case Op.MallocTrim:
          r = pm.mallocTrim(tid, argA[i]);
          break;
        case Op.Write: {
          const ptr = as >= 0 ? slotPtr[as] : argA[i];
          pm.write(tid, ptr, argB[i], argC[i]);
          outA[i] = ptr;
          break;
        }
      }
      result[i] = r;
      const rs = resSlot[i];
      if (rs >= 0) {
        slotPtr[rs] = r;
        live[rs] = r !== 0 ? 1 : 0;
      }
      if (exitThreads && lastOfThread[i] === 1) pm.threadExit(tid);
    }
  } catch (e) {
    if (!isProcessDeath(e)) throw e;
    died = { index: i, reason: pm.heap.dead ?? String(e) };
    // the simulator's trace ends before the call that died
    out.length = i;
  }

  const sim: ParsedTrace = {
    comments: [' heaptrace v1 glibc=2.36 from mmsim replayTrace'],
    heapBase: real.heapBase,
    calls: out,
    mallinfo2: null,
    finalBrk: sys.brkCurrent,
    resident: null,
  };
  if (died === null) {
    // heapprog-run counts residency first, then asks mallinfo2
    if (real.resident !== null) {
      let mmapPages = 0;
      for (let s = 0; s < prep.slots; s++) {
        if (live[s] === 0) continue;
        const p = slotPtr[s];
        if (pm.isMmapped(p)) mmapPages += sys.residentPages(p - 16, pm.chunkSize(p));
      }
      sim.resident = {
        heapPages: sys.residentPages(real.heapBase, sys.brkCurrent - real.heapBase),
        mmapPages,
      };
    }
    sim.mallinfo2 = pm.mallinfo2(0);
  }
  return { trace: sim, ptmalloc: pm, sys, replayed: i, died };
}
