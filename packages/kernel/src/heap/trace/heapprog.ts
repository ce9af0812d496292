// Runs a "heap program" (the language of heaptrace's heapprog-run: handles h0..h65535, one
// call per line) on a simulated process, the way heapprog-run runs one on real glibc, and
// returns the heaptrace it would print. Tests use it to compare with real runs recorded on
// glibc 2.36.
//
//   malloc H SIZE | calloc H NMEMB SIZE | realloc H SIZE | free H | memalign H ALIGN SIZE
//   write H OFFSET LEN | mallopt PARAM VALUE | malloc_trim PAD
//
// With `keepFreedHandles` a freed handle keeps its pointer and `free` always calls free(), so
// a program can free twice (double-free experiments); heapprog-run itself clears the handle.
import { isProcessDeath, Ptmalloc } from '../ptmalloc.js';
import { LocalSys } from './local-sys.js';
import { emptyCalls, Op, pushCall, type ParsedTrace } from './types.js';

export interface HeapProgramOptions {
  readonly heapBase?: number;
  readonly env?: readonly string[];
  readonly cpus?: number;
  readonly keepFreedHandles?: boolean;
}

export interface HeapProgramRun {
  readonly trace: ParsedTrace;
  readonly ptmalloc: Ptmalloc;
  readonly sys: LocalSys;
  /** glibc's abort message, or 'SIGSEGV', when the program did not finish. */
  readonly died: string | null;
}

export function runHeapProgram(program: string, options: HeapProgramOptions = {}): HeapProgramRun {
  const heapBase = options.heapBase ?? 0x555555559000;
  const sys = new LocalSys({ brkStart: heapBase });
  const pm = new Ptmalloc({ brkStart: heapBase, cpus: options.cpus ?? 2, env: options.env, touchesPersist: true }, sys);
  const h = new Map<number, number>();
  const calls = emptyCalls();
  const handle = (s: string): number => Number(s.replace(/^h/, '')) & 65535;
  let died: string | null = null;
  const trace: ParsedTrace = { comments: [' heaptrace v1 glibc=2.36 from mmsim runHeapProgram'], heapBase, calls, mallinfo2: null, finalBrk: null, resident: null };
  try {
    for (const raw of program.split('\n')) {
      const f = raw.trim().split(/\s+/);
      if (f.length === 0 || f[0] === '') continue;
      switch (f[0]) {
        case 'malloc_trim': {
          const pad = Number(f[1]);
          pushCall(calls, Op.MallocTrim, 0, pad, 0, 0, pm.mallocTrim(0, pad));
          break;
        }
        case 'malloc': {
          const n = Number(f[2]);
          const r = pm.malloc(0, n);
          h.set(handle(f[1]), r);
          pushCall(calls, Op.Malloc, 0, n, 0, 0, r);
          break;
        }
        case 'calloc': {
          const a = Number(f[2]), b = Number(f[3]);
          const r = pm.calloc(0, a, b);
          h.set(handle(f[1]), r);
          pushCall(calls, Op.Calloc, 0, a, b, 0, r);
          break;
        }
        case 'realloc': {
          const k = handle(f[1]);
          const old = h.get(k) ?? 0;
          const n = Number(f[2]);
          const r = pm.realloc(0, old, n);
          h.set(k, r);
          pushCall(calls, Op.Realloc, 0, old, n, 0, r);
          break;
        }
        case 'free': {
          const k = handle(f[1]);
          const p = h.get(k) ?? 0;
          if (p === 0 && !options.keepFreedHandles) break;
          pushCall(calls, Op.Free, 0, p, 0, 0, NaN);
          if (!options.keepFreedHandles) h.set(k, 0);
          pm.free(0, p);
          break;
        }
        case 'memalign': {
          const a = Number(f[2]), n = Number(f[3]);
          const r = pm.memalign(0, 'memalign', a, n);
          h.set(handle(f[1]), r);
          pushCall(calls, Op.Memalign, 0, a, n, 0, r);
          break;
        }
        case 'write': {
          const p = h.get(handle(f[1])) ?? 0;
          const off = Number(f[2]), len = Number(f[3]);
          if (p !== 0 && len > 0) {
            pm.write(0, p, off, len);
            pushCall(calls, Op.Write, 0, p, off, len, NaN);
          }
          break;
        }
        case 'mallopt': {
          const a = Number(f[1]), b = Number(f[2]);
          pushCall(calls, Op.Mallopt, 0, a, b, 0, pm.mallopt(0, a, b));
          break;
        }
        default:
          break;
      }
    }
    const brk = sys.brkCurrent;
    let mmapPages = 0;
    for (const p of h.values()) if (p !== 0 && pm.isMmapped(p)) mmapPages += sys.residentPages(p - 16, pm.chunkSize(p));
    trace.resident = { heapPages: sys.residentPages(heapBase, brk - heapBase), mmapPages };
    trace.mallinfo2 = pm.mallinfo2(0);
    trace.finalBrk = brk;
  } catch (e) {
    if (!isProcessDeath(e)) throw e;
    const reason = pm.heap.dead ?? '';
    died = reason.startsWith('abort: ') ? reason.slice(7) : reason.startsWith('hang') ? 'hang' : 'SIGSEGV';
    trace.mallinfo2 = null;
    trace.resident = null;
  }
  return { trace, ptmalloc: pm, sys, died };
}
