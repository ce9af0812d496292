// heap.evolve(): applies one event. A HeapCallCompleted is re-run with the answers it records
// (so the allocator's memory moves exactly as it did in decide) and must give the recorded
// result; anything else is a HeapDivergence, and the process is left as it was.
import { isNeed } from '../../common/aggregate.js';
import { unreachable } from '../../common/unreachable.js';
import { AnswerSys, HeapDivergence } from './answer-sys.js';
import { runCall } from './run-call.js';
import { HeapState } from './state.js';
import type { HeapCallCommand, HeapCallCompleted, HeapEvent } from './types.js';

export const initialState = (): HeapState => new HeapState();

/** The command a HeapCallCompleted records (answers come from the records). */
export function commandOf(e: HeapCallCompleted): HeapCallCommand {
  const { pid, tid, args } = e;
  switch (e.call) {
    case 'malloc':
      return { type: 'Malloc', pid, tid, size: args[0] };
    case 'free':
      return { type: 'Free', pid, tid, ptr: args[0] };
    case 'calloc':
      return { type: 'Calloc', pid, tid, nmemb: args[0], size: args[1] };
    case 'realloc':
      return { type: 'Realloc', pid, tid, ptr: args[0], size: args[1] };
    case 'memalign':
    case 'aligned_alloc':
    case 'posix_memalign':
      return { type: 'Memalign', pid, tid, variant: e.call, alignment: args[0], size: args[1] };
    case 'valloc':
    case 'pvalloc':
      return { type: 'Memalign', pid, tid, variant: e.call, alignment: 4096, size: args[0] };
    case 'mallopt':
      return { type: 'Mallopt', pid, tid, param: args[0], value: args[1] };
    case 'malloc_trim':
      return { type: 'MallocTrim', pid, tid, pad: args[0] };
    case 'malloc_usable_size':
      return { type: 'MallocUsableSize', pid, tid, ptr: args[0] };
    case 'mallinfo2':
      return { type: 'Mallinfo2', pid, tid };
    case 'malloc_stats':
      return { type: 'MallocStats', pid, tid };
    case 'write':
      return { type: 'Write', pid, tid, ptr: args[0], offset: args[1], len: args[2], byte: args[3] };
    case 'thread_exit':
      return { type: 'ThreadExit', pid, tid };
    default:
      return unreachable(e.call, 'heap call');
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function evolve(s: HeapState, e: HeapEvent): HeapState {
  switch (e.type) {
    case 'HeapCreated':
      if (s.procs.has(e.pid)) throw new HeapDivergence(`HeapCreated for pid ${e.pid}, which already has a heap`);
      s.add(e);
      return s;
    case 'HeapCallCompleted': {
      const p = s.procs.get(e.pid);
      if (p === undefined) throw new HeapDivergence(`HeapCallCompleted for pid ${e.pid}, which has no heap`);
      const sys = new AnswerSys(e.pid, [], { syscalls: e.syscalls, touches: e.touches });
      const verify = (result: unknown): void => {
        if (!sameJson(result, e.result)) {
          throw new HeapDivergence(`pid ${e.pid}: ${e.call}(${e.args.join(', ')}) gave ${JSON.stringify(result)} on replay, the event says ${JSON.stringify(e.result)}`);
        }
        if (!sys.usedAll) throw new HeapDivergence(`pid ${e.pid}: the re-run of ${e.call} used fewer answers than the event records`);
      };
      try {
        runCall(p.ptmalloc, commandOf(e), sys, true, verify);
      } catch (x) {
        if (isNeed(x)) throw new HeapDivergence(`pid ${e.pid}: the re-run of ${e.call} asked more than the event records`);
        throw x;
      }
      s.rehash(p);
      return s;
    }
    case 'HeapAborted': {
      const p = s.procs.get(e.pid);
      if (p === undefined) throw new HeapDivergence(`HeapAborted for pid ${e.pid}, which has no heap`);
      if (p.ptmalloc.heap.dead === null) p.ptmalloc.heap.dead = `${e.signal}: ${e.message}`;
      s.rehash(p);
      return s;
    }
    case 'HeapForgotten':
      s.remove(e.pid);
      return s;
    default:
      return unreachable(e, 'heap event');
  }
}

export const stateHash = (s: HeapState): string => s.hash();
