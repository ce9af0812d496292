// The heap aggregate's event codec: kernel/src/heap/aggregate/types.ts HeapEvent <->
// proto/mmsim/v1/heap_events.proto HeapEvent. One case per event type, each field converted
// exactly (scalars.ts); fromProto(toProto(e)) deep-equals e, optional fields included.
import { unreachable, type AddrRange, type Syscall } from '@mmsim/kernel';
import type {
  HeapCallCompleted,
  HeapCallName,
  HeapCallResult,
  HeapEvent,
  HeapSyscallRecord,
  HeapTouchRecord,
  Mallinfo2,
  ThpMode,
} from '@mmsim/kernel/heap'; // @mmsim/kernel/heap once packages/kernel/src/heap/index.ts exists
import * as pb from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { signal } from './oom.js';
import { EventCodecError, enumMap, need, num, oneOfStrings, s64, u32, u64 } from './scalars.js';
import { syscallFromProto, syscallToProto, touchResultFromProto, touchResultToProto } from './vma.js';

type Msg = pb.HeapEvent;

const thpMode = enumMap<ThpMode, pb.ThpMode>('thp mode', {
  always: pb.ThpMode.THP_MODE_ALWAYS,
  madvise: pb.ThpMode.THP_MODE_MADVISE,
  never: pb.ThpMode.THP_MODE_NEVER,
});

const callName = enumMap<HeapCallName, pb.HeapCallName>('heap call', {
  malloc: pb.HeapCallName.HEAP_CALL_NAME_MALLOC,
  free: pb.HeapCallName.HEAP_CALL_NAME_FREE,
  calloc: pb.HeapCallName.HEAP_CALL_NAME_CALLOC,
  realloc: pb.HeapCallName.HEAP_CALL_NAME_REALLOC,
  memalign: pb.HeapCallName.HEAP_CALL_NAME_MEMALIGN,
  aligned_alloc: pb.HeapCallName.HEAP_CALL_NAME_ALIGNED_ALLOC,
  posix_memalign: pb.HeapCallName.HEAP_CALL_NAME_POSIX_MEMALIGN,
  valloc: pb.HeapCallName.HEAP_CALL_NAME_VALLOC,
  pvalloc: pb.HeapCallName.HEAP_CALL_NAME_PVALLOC,
  mallopt: pb.HeapCallName.HEAP_CALL_NAME_MALLOPT,
  malloc_trim: pb.HeapCallName.HEAP_CALL_NAME_MALLOC_TRIM,
  malloc_usable_size: pb.HeapCallName.HEAP_CALL_NAME_MALLOC_USABLE_SIZE,
  mallinfo2: pb.HeapCallName.HEAP_CALL_NAME_MALLINFO2,
  malloc_stats: pb.HeapCallName.HEAP_CALL_NAME_MALLOC_STATS,
  write: pb.HeapCallName.HEAP_CALL_NAME_WRITE,
  thread_exit: pb.HeapCallName.HEAP_CALL_NAME_THREAD_EXIT,
});

type AbortKind = Extract<HeapEvent, { type: 'HeapAborted' }>['signal'];
const abortKind = enumMap<AbortKind, pb.HeapAbortKind>('heap abort', {
  SIGABRT: pb.HeapAbortKind.HEAP_ABORT_KIND_SIGABRT,
  SIGSEGV: pb.HeapAbortKind.HEAP_ABORT_KIND_SIGSEGV,
  hang: pb.HeapAbortKind.HEAP_ABORT_KIND_HANG,
});

const rangeToProto = (r: AddrRange): pb.AddrRange => ({ addr: u64(r.addr, 'range.addr'), length: u64(r.length, 'range.length') });
const rangeFromProto = (m: pb.AddrRange): AddrRange => ({ addr: num(m.addr, 'range.addr'), length: num(m.length, 'range.length') });

/** The heap's system calls are the allocator's six (contracts/heap-sys.ts Syscall), never with a file's fd or mremap's new_addr. */
function heapSyscallFromProto(m: pb.Syscall | undefined): Syscall {
  const c = syscallFromProto(m);
  if (c.nr === 'mlock' || c.nr === 'munlock' || 'fd' in c || 'newAddr' in c) throw new EventCodecError(`the allocator does not make the system call ${JSON.stringify(c)}`);
  return c;
}

const syscallRecordToProto = (r: HeapSyscallRecord): pb.HeapSyscallRecord => ({ seq: u32(r.seq, 'syscall.seq'), call: syscallToProto(r.call), result: s64(r.result, 'syscall.result') });
const syscallRecordFromProto = (m: pb.HeapSyscallRecord): HeapSyscallRecord => ({ seq: m.seq, call: heapSyscallFromProto(m.call), result: num(m.result, 'syscall.result') });

const touchRecordToProto = (r: HeapTouchRecord): pb.HeapTouchRecord => ({
  seq: u32(r.seq, 'touch.seq'),
  writes: r.writes.map(rangeToProto),
  reads: r.reads.map(rangeToProto),
  result: touchResultToProto(r.result),
});
const touchRecordFromProto = (m: pb.HeapTouchRecord): HeapTouchRecord => ({
  seq: m.seq,
  writes: m.writes.map(rangeFromProto),
  reads: m.reads.map(rangeFromProto),
  result: touchResultFromProto(m.result),
});

const mallinfo2ToProto = (i: Mallinfo2): pb.Mallinfo2 => ({
  arena: u64(i.arena, 'mallinfo2.arena'),
  ordblks: u64(i.ordblks, 'mallinfo2.ordblks'),
  smblks: u64(i.smblks, 'mallinfo2.smblks'),
  hblks: u64(i.hblks, 'mallinfo2.hblks'),
  hblkhd: u64(i.hblkhd, 'mallinfo2.hblkhd'),
  usmblks: u64(i.usmblks, 'mallinfo2.usmblks'),
  fsmblks: u64(i.fsmblks, 'mallinfo2.fsmblks'),
  uordblks: u64(i.uordblks, 'mallinfo2.uordblks'),
  fordblks: u64(i.fordblks, 'mallinfo2.fordblks'),
  keepcost: u64(i.keepcost, 'mallinfo2.keepcost'),
});
const mallinfo2FromProto = (m: pb.Mallinfo2): Mallinfo2 => ({
  arena: num(m.arena, 'mallinfo2.arena'),
  ordblks: num(m.ordblks, 'mallinfo2.ordblks'),
  smblks: num(m.smblks, 'mallinfo2.smblks'),
  hblks: num(m.hblks, 'mallinfo2.hblks'),
  hblkhd: num(m.hblkhd, 'mallinfo2.hblkhd'),
  usmblks: num(m.usmblks, 'mallinfo2.usmblks'),
  fsmblks: num(m.fsmblks, 'mallinfo2.fsmblks'),
  uordblks: num(m.uordblks, 'mallinfo2.uordblks'),
  fordblks: num(m.fordblks, 'mallinfo2.fordblks'),
  keepcost: num(m.keepcost, 'mallinfo2.keepcost'),
});

function resultToProto(r: HeapCallResult): pb.HeapCallResult {
  switch (r.kind) {
    case 'pointer':
      return { result: { $case: 'pointer', value: { value: u64(r.value, 'result.value'), errno: r.errno === undefined ? undefined : u32(r.errno, 'result.errno') } } };
    case 'value':
      return { result: { $case: 'value', value: { value: s64(r.value, 'result.value') } } };
    case 'mallinfo2':
      return { result: { $case: 'mallinfo2', value: mallinfo2ToProto(r.mallinfo2) } };
    case 'stats':
      return { result: { $case: 'stats', value: { text: r.text } } };
    case 'none':
      return { result: { $case: 'none', value: {} } };
    case 'aborted':
      return { result: { $case: 'aborted', value: { message: r.message } } };
    case 'crashed':
      return { result: { $case: 'crashed', value: { addr: u64(r.addr, 'result.addr') } } };
    case 'hung':
      return { result: { $case: 'hung', value: { message: r.message } } };
    case 'killed':
      return { result: { $case: 'killed', value: { signal: signal.to(r.signal), addr: u64(r.addr, 'result.addr') } } };
    default:
      return unreachable(r, 'heap call result');
  }
}

function resultFromProto(m: pb.HeapCallResult | undefined): HeapCallResult {
  const r = need(need(m, 'result').result, 'result.result');
  switch (r.$case) {
    case 'pointer': {
      const v = r.value;
      const value = num(v.value, 'result.value');
      return v.errno === undefined ? { kind: 'pointer', value } : { kind: 'pointer', value, errno: v.errno };
    }
    case 'value':
      return { kind: 'value', value: num(r.value.value, 'result.value') };
    case 'mallinfo2':
      return { kind: 'mallinfo2', mallinfo2: mallinfo2FromProto(r.value) };
    case 'stats':
      return { kind: 'stats', text: r.value.text };
    case 'none':
      return { kind: 'none' };
    case 'aborted':
      return { kind: 'aborted', message: r.value.message };
    case 'crashed':
      return { kind: 'crashed', addr: num(r.value.addr, 'result.addr') };
    case 'hung':
      return { kind: 'hung', message: r.value.message };
    case 'killed':
      return { kind: 'killed', signal: oneOfStrings(signal.from(r.value.signal), ['SIGKILL', 'SIGSEGV'] as const, 'result.signal'), addr: num(r.value.addr, 'result.addr') };
    default:
      return unreachable(r, 'heap call result');
  }
}

/**
 * A call's C arguments as sint64. A size_t of 2^63 (the model's stand-in for every size past
 * PTRDIFF_MAX, which glibc refuses alike) is stored as C would see it in a signed slot: -2^63.
 * No other argument comes near it (offsets are within the 47-bit address space, mallopt
 * values are C ints).
 */
const SIZE_PAST_PTRDIFF_MAX = 2 ** 63;
const argToProto = (a: number): bigint => (a === SIZE_PAST_PTRDIFF_MAX ? -(2n ** 63n) : s64(a, 'args'));
const argFromProto = (a: bigint): number => (a === -(2n ** 63n) ? SIZE_PAST_PTRDIFF_MAX : num(a, 'args'));

const callCompletedToProto = (e: HeapCallCompleted): pb.HeapCallCompleted => ({
  pid: u32(e.pid, 'pid'),
  tid: u32(e.tid, 'tid'),
  call: callName.to(e.call),
  args: e.args.map(argToProto),
  result: resultToProto(e.result),
  syscalls: e.syscalls.map(syscallRecordToProto),
  touches: e.touches.map(touchRecordToProto),
});

type Ev<T extends HeapEvent['type']> = Extract<HeapEvent, { type: T }>;

function toProto(e: HeapEvent): Msg {
  switch (e.type) {
    case 'HeapCreated':
      return {
        event: {
          $case: 'heapCreated',
          value: {
            pid: u32(e.pid, 'pid'),
            brkStart: u64(e.brkStart, 'brkStart'),
            env: [...e.env],
            cpus: u32(e.cpus, 'cpus'),
            overcommitMemory: u32(e.overcommitMemory, 'overcommitMemory'),
            thpMode: thpMode.to(e.thpMode),
            secure: e.secure,
            modelVersion: u32(e.modelVersion, 'modelVersion'),
          },
        },
      };
    case 'HeapCallCompleted':
      return { event: { $case: 'heapCallCompleted', value: callCompletedToProto(e) } };
    case 'HeapAborted':
      return { event: { $case: 'heapAborted', value: { pid: u32(e.pid, 'pid'), signal: abortKind.to(e.signal), message: e.message } } };
    case 'HeapForgotten':
      return { event: { $case: 'heapForgotten', value: { pid: u32(e.pid, 'pid'), reason: e.reason } } };
    default:
      return unreachable(e, 'heap event');
  }
}

function fromProto(m: Msg): HeapEvent {
  const ev = need(m.event, 'HeapEvent.event');
  switch (ev.$case) {
    case 'heapInitialized':
      throw new EventCodecError('HeapInitialized is the schema\'s old placeholder: the heap aggregate has no such event');
    case 'heapCreated': {
      const v = ev.value;
      return {
        type: 'HeapCreated',
        pid: v.pid,
        brkStart: num(v.brkStart, 'brkStart'),
        env: v.env,
        cpus: v.cpus,
        overcommitMemory: v.overcommitMemory,
        thpMode: thpMode.from(v.thpMode),
        secure: v.secure,
        modelVersion: v.modelVersion,
      } satisfies Ev<'HeapCreated'>;
    }
    case 'heapCallCompleted': {
      const v = ev.value;
      return {
        type: 'HeapCallCompleted',
        pid: v.pid,
        tid: v.tid,
        call: callName.from(v.call),
        args: v.args.map(argFromProto),
        result: resultFromProto(v.result),
        syscalls: v.syscalls.map(syscallRecordFromProto),
        touches: v.touches.map(touchRecordFromProto),
      } satisfies Ev<'HeapCallCompleted'>;
    }
    case 'heapAborted':
      return { type: 'HeapAborted', pid: ev.value.pid, signal: abortKind.from(ev.value.signal), message: ev.value.message } satisfies Ev<'HeapAborted'>;
    case 'heapForgotten':
      return { type: 'HeapForgotten', pid: ev.value.pid, reason: ev.value.reason } satisfies Ev<'HeapForgotten'>;
    default:
      return unreachable(ev, 'heap event message');
  }
}

export const heapCodec = defineEventCodec<'heap', HeapEvent>({
  service: 'heap',
  toProto,
  fromProto,
  eventType: (e) => e.type,
});
