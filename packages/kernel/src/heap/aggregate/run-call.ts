// Runs one call command on a process's allocator against an AnswerSys and says what came of
// it. Shared by decide() (which always rolls back) and evolve() (which keeps the result).
import { isNeed } from '../../common/aggregate.js';
import { unreachable } from '../../common/unreachable.js';
import { SegvError } from '../memory/word-memory.js';
import { MallocAbort, MallocHang } from '../process.js';
import type { Ptmalloc } from '../ptmalloc.js';
import { TouchFailed, type AnswerSys } from './answer-sys.js';
import type { HeapCallCommand, HeapCallName, HeapCallResult } from './types.js';

/** The glibc function and C arguments of a call command. */
export function callOf(cmd: HeapCallCommand): { call: HeapCallName; args: number[] } {
  switch (cmd.type) {
    case 'Malloc':
      return { call: 'malloc', args: [cmd.size] };
    case 'Free':
      return { call: 'free', args: [cmd.ptr] };
    case 'Calloc':
      return { call: 'calloc', args: [cmd.nmemb, cmd.size] };
    case 'Realloc':
      return { call: 'realloc', args: [cmd.ptr, cmd.size] };
    case 'Memalign':
      return cmd.variant === 'valloc' || cmd.variant === 'pvalloc'
        ? { call: cmd.variant, args: [cmd.size] }
        : { call: cmd.variant, args: [cmd.alignment, cmd.size] };
    case 'Mallopt':
      return { call: 'mallopt', args: [cmd.param, cmd.value] };
    case 'MallocTrim':
      return { call: 'malloc_trim', args: [cmd.pad] };
    case 'MallocUsableSize':
      return { call: 'malloc_usable_size', args: [cmd.ptr] };
    case 'Mallinfo2':
      return { call: 'mallinfo2', args: [] };
    case 'MallocStats':
      return { call: 'malloc_stats', args: [] };
    case 'Write':
      return { call: 'write', args: [cmd.ptr, cmd.offset, cmd.len, cmd.byte ?? 0xa5] };
    case 'ThreadExit':
      return { call: 'thread_exit', args: [] };
    default:
      return unreachable(cmd, 'heap call');
  }
}

function invoke(pm: Ptmalloc, cmd: HeapCallCommand): HeapCallResult {
  const tid = cmd.tid;
  switch (cmd.type) {
    case 'Malloc':
      return { kind: 'pointer', value: pm.malloc(tid, cmd.size) };
    case 'Free':
      pm.free(tid, cmd.ptr);
      return { kind: 'none' };
    case 'Calloc':
      return { kind: 'pointer', value: pm.calloc(tid, cmd.nmemb, cmd.size) };
    case 'Realloc':
      return { kind: 'pointer', value: pm.realloc(tid, cmd.ptr, cmd.size) };
    case 'Memalign': {
      const [ret, p] = pm.memalignFull(tid, cmd.variant, cmd.alignment, cmd.size);
      return cmd.variant === 'posix_memalign' ? { kind: 'pointer', value: p, errno: ret } : { kind: 'pointer', value: p };
    }
    case 'Mallopt':
      return { kind: 'value', value: pm.mallopt(tid, cmd.param, cmd.value) };
    case 'MallocTrim':
      return { kind: 'value', value: pm.mallocTrim(tid, cmd.pad) };
    case 'MallocUsableSize':
      return { kind: 'value', value: pm.mallocUsableSize(tid, cmd.ptr) };
    case 'Mallinfo2':
      return { kind: 'mallinfo2', mallinfo2: pm.mallinfo2(tid) };
    case 'MallocStats':
      return { kind: 'stats', text: pm.mallocStats(tid) };
    case 'Write':
      pm.write(tid, cmd.ptr, cmd.offset, cmd.len, cmd.byte ?? 0xa5);
      return { kind: 'none' };
    case 'ThreadExit':
      pm.threadExit(tid);
      return { kind: 'none' };
    default:
      return unreachable(cmd, 'heap call');
  }
}

/** What a touch that was answered with a block does: the call cannot complete now. */
export class CallBlocked {
  readonly name = 'CallBlocked';
  constructor(readonly reason: string, readonly addr: number) {}
}

/**
 * Runs the call inside a transaction on pm and ends it with `keep` ? commit : rollback.
 * `verify` sees the result before the commit; if it throws, the call is rolled back.
 * Throws Need (more answers wanted), CallBlocked, or anything unexpected.
 */
export function runCall(pm: Ptmalloc, cmd: HeapCallCommand, sys: AnswerSys, keep: boolean, verify?: (r: HeapCallResult) => void): HeapCallResult {
  const saved = pm.sys;
  pm.sys = sys;
  pm.begin();
  let ok = false;
  try {
    let result: HeapCallResult;
    try {
      result = invoke(pm, cmd);
      sys.end();
    } catch (e) {
      if (isNeed(e)) throw e;
      if (e instanceof TouchFailed) {
        const r = e.result;
        if ('blocked' in r) throw new CallBlocked(r.blocked, r.addr);
        result = { kind: 'killed', signal: r.signal, addr: r.addr };
      } else if (e instanceof MallocAbort) result = { kind: 'aborted', message: e.message };
      else if (e instanceof SegvError) result = { kind: 'crashed', addr: e.addr };
      else if (e instanceof MallocHang) result = { kind: 'hung', message: e.where };
      else throw e;
    }
    verify?.(result);
    ok = true;
    return result;
  } finally {
    if (keep && ok) pm.commit();
    else pm.rollback();
    pm.sys = saved;
  }
}
