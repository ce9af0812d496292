// heap.decide(): validates the command, runs the call on the process's allocator inside a
// transaction that is always rolled back, and returns the events. Needs vma's answers through
// Need('vma', VmaRequest, index).
import { invalid, notFound, precondition, quota } from '../../common/rejection.js';
import { MODEL_VERSION } from '../../common/profile.js';
import { unreachable } from '../../common/unreachable.js';
import { AnswerSys, BadAnswer } from './answer-sys.js';
import { CallBlocked, callOf, runCall } from './run-call.js';
import type { HeapState } from './state.js';
import type { CreateHeap, HeapCallCommand, HeapCallResult, HeapCommand, HeapEvent, ThpMode } from './types.js';

const BAD = 'heap.BAD_COMMAND';
const MAX_ADDR = 2 ** 48;

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(BAD, `${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

/**
 * A size_t. Exact up to 2^53-1; 2^63 (a double exactly) stands for every value from
 * PTRDIFF_MAX + 1 up, which glibc refuses alike (checked_request2size).
 */
const size = (field: string, v: unknown): number => (v === 2 ** 63 ? v : int(field, v, 0, Number.MAX_SAFE_INTEGER));
const ptr = (field: string, v: unknown): number => int(field, v, 0, Number.MAX_SAFE_INTEGER);
const cInt = (field: string, v: unknown): number => int(field, v, -(2 ** 31), 2 ** 31 - 1);

function checkCreate(c: CreateHeap): void {
  int('pid', c.pid, 0, 2 ** 31 - 1);
  int('brkStart', c.brkStart, 0, MAX_ADDR);
  int('cpus', c.cpus, 1, 65536);
  if (c.env !== undefined && (!Array.isArray(c.env) || c.env.some((x) => typeof x !== 'string'))) throw invalid(BAD, 'env must be a list of strings');
  if (c.overcommitMemory !== undefined) int('overcommitMemory', c.overcommitMemory, 0, 2);
  if (c.thpMode !== undefined && !(['always', 'madvise', 'never'] as const).includes(c.thpMode)) throw invalid(BAD, `thpMode must be always, madvise or never`);
}

function checkCall(c: HeapCallCommand): void {
  int('tid', c.tid, 0, 2 ** 31 - 1);
  switch (c.type) {
    case 'Malloc':
      size('size', c.size);
      break;
    case 'Free':
    case 'MallocUsableSize':
      ptr('ptr', c.ptr);
      break;
    case 'Calloc':
      size('nmemb', c.nmemb);
      size('size', c.size);
      break;
    case 'Realloc':
      ptr('ptr', c.ptr);
      size('size', c.size);
      break;
    case 'Memalign':
      if (!(['memalign', 'aligned_alloc', 'posix_memalign', 'valloc', 'pvalloc'] as const).includes(c.variant)) throw invalid(BAD, `unknown memalign variant ${String(c.variant)}`);
      size('alignment', c.alignment);
      size('size', c.size);
      break;
    case 'Mallopt':
      cInt('param', c.param);
      cInt('value', c.value);
      break;
    case 'MallocTrim':
      size('pad', c.pad);
      break;
    case 'Write':
      ptr('ptr', c.ptr);
      int('offset', c.offset, -(2 ** 47), 2 ** 47);
      size('len', c.len);
      if (c.byte !== undefined) int('byte', c.byte, 0, 255);
      break;
    case 'Mallinfo2':
    case 'MallocStats':
    case 'ThreadExit':
      break;
    default:
      unreachable(c, 'heap call');
  }
}

/** The events a finished call produces. */
export function callEvents(cmd: HeapCallCommand, result: HeapCallResult, sys: AnswerSys): HeapEvent[] {
  const { call, args } = callOf(cmd);
  const events: HeapEvent[] = [
    { type: 'HeapCallCompleted', pid: cmd.pid, tid: cmd.tid, call, args, result, syscalls: sys.syscalls, touches: sys.touches },
  ];
  switch (result.kind) {
    case 'aborted':
      events.push({ type: 'HeapAborted', pid: cmd.pid, signal: 'SIGABRT', message: result.message });
      break;
    case 'crashed':
      events.push({ type: 'HeapAborted', pid: cmd.pid, signal: 'SIGSEGV', message: `segfault at 0x${result.addr.toString(16)}` });
      break;
    case 'hung':
      events.push({ type: 'HeapAborted', pid: cmd.pid, signal: 'hang', message: `spins forever in ${result.message}` });
      break;
    case 'killed':
      events.push({ type: 'HeapForgotten', pid: cmd.pid, reason: `${result.signal} during ${call}` });
      break;
    default:
      break;
  }
  return events;
}

export function decide(cmd: HeapCommand, s: HeapState): HeapEvent[] {
  switch (cmd.type) {
    case 'CreateHeap': {
      checkCreate(cmd);
      if (s.procs.has(cmd.pid)) throw precondition('heap.PROCESS_EXISTS', `pid ${cmd.pid} already has a heap`);
      const thpMode: ThpMode = cmd.thpMode ?? 'madvise';
      return [
        {
          type: 'HeapCreated',
          pid: cmd.pid,
          brkStart: cmd.brkStart,
          env: [...(cmd.env ?? [])],
          cpus: cmd.cpus,
          overcommitMemory: cmd.overcommitMemory ?? 0,
          thpMode,
          secure: cmd.secure ?? false,
          modelVersion: MODEL_VERSION,
        },
      ];
    }
    case 'ForgetProcess':
      if (!s.procs.has(cmd.pid)) throw notFound('heap.NO_SUCH_PROCESS', `pid ${cmd.pid} has no heap`);
      return [{ type: 'HeapForgotten', pid: cmd.pid, reason: cmd.reason }];
    default: {
      checkCall(cmd);
      const e = s.procs.get(cmd.pid);
      if (e === undefined) throw notFound('heap.NO_SUCH_PROCESS', `pid ${cmd.pid} has no heap`);
      if (e.ptmalloc.heap.dead !== null) throw precondition('heap.PROCESS_DEAD', `pid ${cmd.pid} is gone (${e.ptmalloc.heap.dead})`);
      const sys = new AnswerSys(cmd.pid, cmd.answers ?? []);
      let result: HeapCallResult;
      try {
        result = runCall(e.ptmalloc, cmd, sys, false);
      } catch (x) {
        if (x instanceof CallBlocked) throw quota('heap.BLOCKED', `pid ${cmd.pid}: memory could not be had now (${x.reason} at 0x${x.addr.toString(16)}); retry later`);
        if (x instanceof BadAnswer) throw invalid('heap.BAD_ANSWER', x.message);
        throw x;
      }
      if (!sys.usedAll) throw invalid('heap.BAD_ANSWER', `the command carries ${(cmd.answers ?? []).length} answers, the call used fewer`);
      return callEvents(cmd, result, sys);
    }
  }
}
