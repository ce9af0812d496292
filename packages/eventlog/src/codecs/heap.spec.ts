import { DEFAULT_SYSCTLS, InProcessMachine, type Aggregate, type MachineConfig } from '@mmsim/kernel';
import { answerOf as framesAnswer, frames, isFramesQuery, queryFrames, totals as framesTotals, type FramesState } from '@mmsim/kernel/frames';
import { heap, type HeapCallResult, type HeapCommand, type HeapEvent } from '@mmsim/kernel/heap';
import { oom } from '@mmsim/kernel/oom';
import { createVm, type VmState } from '@mmsim/kernel/vm';
import * as pb from '@mmsim/proto';
import { describe, expect, it } from 'vitest';
import { expectEnvelopeRoundTrip, expectRoundTrip } from './codec-checks.testing.js';
import { heapCodec } from './heap.js';
import { EventCodecError } from './scalars.js';

const none = { kind: 'none' } as const;
const mallinfo2 = { arena: 135168, ordblks: 1, smblks: 0, hblks: 1, hblkhd: 2 ** 40, usmblks: 0, fsmblks: 0, uordblks: 1056, fordblks: 134112, keepcost: 134112 };

/**
 * At least one event of every type. The mapped type makes a new HeapEvent type a compile error
 * here (npx tsc) until it has a sample.
 */
const samples: { [K in HeapEvent['type']]: Extract<HeapEvent, { type: K }>[] } = {
  HeapCreated: [
    { type: 'HeapCreated', pid: 1000, brkStart: 0x5555_5555_9000, env: ['MALLOC_ARENA_MAX=1', 'GLIBC_TUNABLES=glibc.malloc.tcache_count=0'], cpus: 4, overcommitMemory: 2, thpMode: 'always', secure: true, modelVersion: 1 },
    { type: 'HeapCreated', pid: 0, brkStart: 0, env: [], cpus: 1, overcommitMemory: 0, thpMode: 'madvise', secure: false, modelVersion: 0 },
    { type: 'HeapCreated', pid: 7, brkStart: 2 ** 47, env: [''], cpus: 65536, overcommitMemory: 1, thpMode: 'never', secure: false, modelVersion: 9 },
  ],
  HeapCallCompleted: [
    {
      type: 'HeapCallCompleted',
      pid: 1000,
      tid: 1000,
      call: 'malloc',
      args: [200_000],
      result: { kind: 'pointer', value: 0x7fff_f7f5_0010 },
      syscalls: [{ seq: 1, call: { nr: 'mmap', addr: 0, length: 204800, prot: 3, flags: 0x22 }, result: 0x7fff_f7f5_0000 }],
      touches: [
        { seq: 0, writes: [], reads: [], result: { ok: true } },
        { seq: 2, writes: [{ addr: 0x7fff_f7f5_0000, length: 4096 }], reads: [{ addr: 0x5555_5555_9000, length: 4096 }], result: { ok: true } },
      ],
    },
    {
      type: 'HeapCallCompleted',
      pid: 1000,
      tid: 1001,
      call: 'posix_memalign',
      args: [64, 2 ** 50],
      result: { kind: 'pointer', value: 0, errno: 12 },
      syscalls: [
        { seq: 0, call: { nr: 'brk', addr: 0x5555_5557_a000 }, result: 0x5555_5555_9000 },
        { seq: 1, call: { nr: 'munmap', addr: 0x7fff_0000_0000, length: 2 ** 26 }, result: 0 },
        { seq: 2, call: { nr: 'mremap', oldAddr: 1, oldSize: 2, newSize: 3, flags: 1 }, result: -12 },
        { seq: 3, call: { nr: 'mprotect', addr: 0x7fff_0000_0000, length: 135168, prot: 3 }, result: 0 },
        { seq: 4, call: { nr: 'madvise', addr: 0x7fff_0000_0000, length: 4096, advice: 4 }, result: 0 },
      ],
      touches: [],
    },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'mallopt', args: [-8, -1], result: { kind: 'value', value: 1 }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'malloc_usable_size', args: [0x4052a0], result: { kind: 'value', value: -1 }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'mallinfo2', args: [], result: { kind: 'mallinfo2', mallinfo2 }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'malloc_stats', args: [], result: { kind: 'stats', text: 'Arena 0:\nsystem bytes     =     135168\nin use bytes     =       1056\n' }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'free', args: [0x4052a0], result: { kind: 'aborted', message: 'free(): double free detected in tcache 2' }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'write', args: [0x4052a0, -16, 32, 0xa5], result: { kind: 'crashed', addr: 0x10 }, syscalls: [], touches: [] },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'malloc', args: [24], result: { kind: 'hung', message: 'malloc(): unsorted list loops' }, syscalls: [], touches: [] },
    {
      type: 'HeapCallCompleted',
      pid: 1,
      tid: 1,
      call: 'calloc',
      args: [1, 2 ** 30],
      result: { kind: 'killed', signal: 'SIGKILL', addr: 0x7ffe_0000_0000 },
      syscalls: [],
      touches: [{ seq: 0, writes: [{ addr: 0x7ffe_0000_0000, length: 2 ** 30 }], reads: [], result: { ok: false, signal: 'SIGKILL', addr: 0x7ffe_0000_0000 } }],
    },
    { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'realloc', args: [0, 0], result: { kind: 'killed', signal: 'SIGSEGV', addr: 0 }, syscalls: [], touches: [] },
    {
      type: 'HeapCallCompleted',
      pid: 1,
      tid: 1,
      call: 'malloc',
      args: [1],
      result: { kind: 'pointer', value: 0x4052a0 },
      syscalls: [],
      touches: [
        { seq: 0, writes: [], reads: [], result: { ok: false, blocked: 'oom-wait', addr: 0x405000 } },
        { seq: 1, writes: [], reads: [], result: { ok: false, blocked: 'oom-none', addr: 0x405000 } },
        { seq: 2, writes: [], reads: [], result: { ok: false, blocked: 'panic', addr: 0x405000 } },
        { seq: 3, writes: [], reads: [], result: { ok: false, signal: 'SIGSEGV', addr: 0 } },
      ],
    },
    ...(['memalign', 'aligned_alloc', 'valloc', 'pvalloc', 'malloc_trim', 'thread_exit'] as const).map((call) => ({
      type: 'HeapCallCompleted' as const, pid: 2, tid: 3, call, args: call === 'thread_exit' ? [] : [4096, 100], result: call === 'thread_exit' ? none : { kind: 'pointer' as const, value: 4096 }, syscalls: [], touches: [],
    })),
  ],
  HeapAborted: [
    { type: 'HeapAborted', pid: 1, signal: 'SIGABRT', message: 'free(): invalid pointer' },
    { type: 'HeapAborted', pid: 1, signal: 'SIGSEGV', message: '' },
    { type: 'HeapAborted', pid: 1, signal: 'hang', message: 'malloc_consolidate(): unaligned fastbin chunk detected' },
  ],
  HeapForgotten: [{ type: 'HeapForgotten', pid: 1000, reason: 'exited' }],
};

const all = Object.values(samples).flat() as HeapEvent[];

type AnyAggregate = Aggregate<unknown, unknown, unknown>;

/** heap over the real vma, frames and oom: malloc's system calls and touches are answered by vm. */
function recordHeapEvents(): HeapEvent[] {
  const out: HeapEvent[] = [];
  const f = frames as unknown as AnyAggregate;
  const framesHost: AnyAggregate = {
    ...f,
    decide: (c, s) => (isFramesQuery(c) ? [] : f.decide(c, s)),
    answer: (c, evs, s) => (isFramesQuery(c) ? queryFrames(s as FramesState, c) : framesAnswer(c as Parameters<typeof framesAnswer>[0], evs as Parameters<typeof framesAnswer>[1])),
  };
  const m = new InProcessMachine(
    { heap: heap as unknown as AnyAggregate, vma: createVm() as unknown as AnyAggregate, frames: framesHost, oom: oom as unknown as AnyAggregate },
    { onEvents: (service, events) => service === 'heap' && out.push(...(events as HeapEvent[])) },
  );
  const config: MachineConfig = { tenant: 'codec', machine: 'heap', profile: 'linux-6.18', ramBytes: 128 * 2 ** 20, swapBytes: 0, cpus: 2, seed: 5, sysctl: { ...DEFAULT_SYSCTLS } };
  m.handle('frames', { type: 'Boot', config });
  const t = framesTotals(m.state<FramesState>('frames'));
  m.handle('oom', { type: 'Configure', config, totalRamPages: t.totalRamPages, totalSwapPages: t.totalSwapPages });
  m.handle('vma', { type: 'CreateMachine', config, totals: t });
  const pid = m.handle('vma', { type: 'Spawn', name: 'prog', prefault: false }).answer as number;
  const vm = m.state<VmState>('vma');
  const brkStart = vm.mms.get(vm.tasks.get(pid)?.mmId ?? 0)?.brk ?? 0;
  const call = (c: HeapCommand): HeapCallResult => m.handle('heap', c).answer as HeapCallResult;
  const ptr = (r: HeapCallResult): number => (r.kind === 'pointer' ? r.value : 0);
  call({ type: 'CreateHeap', pid, brkStart, cpus: 2, env: ['MALLOC_TOP_PAD_=0'] });
  const a = ptr(call({ type: 'Malloc', pid, tid: pid, size: 24 }));
  const b = ptr(call({ type: 'Malloc', pid, tid: pid, size: 300_000 }));
  const c = ptr(call({ type: 'Calloc', pid, tid: pid, nmemb: 10, size: 100 }));
  call({ type: 'Write', pid, tid: pid, ptr: c, offset: 0, len: 1000 });
  const d = ptr(call({ type: 'Realloc', pid, tid: pid, ptr: a, size: 5000 }));
  call({ type: 'Memalign', pid, tid: pid, variant: 'posix_memalign', alignment: 4096, size: 100 });
  call({ type: 'Mallopt', pid, tid: pid, param: -1, value: 65536 });
  call({ type: 'MallocUsableSize', pid, tid: pid, ptr: d });
  call({ type: 'Free', pid, tid: pid, ptr: b });
  call({ type: 'Free', pid, tid: pid, ptr: d });
  call({ type: 'MallocTrim', pid, tid: pid, pad: 0 });
  call({ type: 'Mallinfo2', pid, tid: pid });
  call({ type: 'MallocStats', pid, tid: pid });
  const t2 = pid + 1;
  call({ type: 'Malloc', pid, tid: t2, size: 64 });
  call({ type: 'ThreadExit', pid, tid: t2 });
  call({ type: 'Free', pid, tid: pid, ptr: c });
  call({ type: 'Free', pid, tid: pid, ptr: c });
  m.handle('heap', { type: 'ForgetProcess', pid, reason: 'exited' });
  return out;
}

describe('heap codec', () => {
  it.each(all.map((e, i) => [`${e.type} #${i}`, e] as const))('round-trips %s exactly', (_t, e) => {
    expectRoundTrip(heapCodec, pb.HeapEvent, e);
  });

  it('keeps posix_memalign\'s errno absent on the other calls', () => {
    const back = heapCodec.fromProto(heapCodec.toProto(samples.HeapCallCompleted[0]));
    expect(back.type === 'HeapCallCompleted' && Object.keys(back.result)).toEqual(['kind', 'value']);
  });

  it('writes a negative C argument as a zigzag varint (hand-encoded)', () => {
    // heap_call_completed (3, LEN 14) { pid = 1, tid = 1, call = MALLOPT (10), args (4, packed LEN 2) [zigzag(-8) = 15, zigzag(-1) = 1],
    //   result (5, LEN 2) { value (2, LEN 0) {} } }
    const e: HeapEvent = { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'mallopt', args: [-8, -1], result: { kind: 'value', value: 0 }, syscalls: [], touches: [] };
    expect([...pb.HeapEvent.encode(heapCodec.toProto(e)).finish()]).toEqual([0x1a, 0x0e, 0x08, 0x01, 0x10, 0x01, 0x18, 0x0a, 0x22, 0x02, 0x0f, 0x01, 0x2a, 0x02, 0x12, 0x00]);
  });

  it('keeps a size past PTRDIFF_MAX (the model\'s 2^63) as -2^63, and reads it back', () => {
    const e: HeapEvent = { type: 'HeapCallCompleted', pid: 1, tid: 1, call: 'malloc', args: [2 ** 63], result: { kind: 'pointer', value: 0, errno: 12 }, syscalls: [], touches: [] };
    const p = heapCodec.toProto(e);
    expect(p.event?.$case === 'heapCallCompleted' && p.event.value.args).toEqual([-(2n ** 63n)]);
    expectRoundTrip(heapCodec, pb.HeapEvent, e);
  });

  it('refuses the placeholder HeapInitialized and a file mmap in an allocator\'s record', () => {
    expect(() => heapCodec.fromProto({ event: { $case: 'heapInitialized', value: { config: undefined, modelVersion: 1 } } })).toThrow(EventCodecError);
    const e = samples.HeapCallCompleted[0];
    const withFd = { ...e, syscalls: [{ seq: 1, call: { nr: 'mmap' as const, addr: 0, length: 4096, prot: 3, flags: 2, fd: 3, offset: 0 }, result: 0 }] };
    // The TS type of a heap syscall has no fd; one arriving on the wire is refused.
    expect(() => heapCodec.fromProto(heapCodec.toProto(withFd as HeapEvent))).toThrow(/does not make the system call/);
  });

  describe('real events (heap over vma, frames and oom in one machine)', () => {
    const real = recordHeapEvents();

    it('has the calls of the scenario, with the system calls and touches vm answered', () => {
      const types = real.map((e) => (e.type === 'HeapCallCompleted' ? `${e.call}:${e.result.kind}` : e.type));
      // The second free(c) of a 1000-byte calloc block (a tcache-sized chunk) is glibc's "free(): double free detected in tcache 2".
      expect(types).toEqual([
        'HeapCreated', 'malloc:pointer', 'malloc:pointer', 'calloc:pointer', 'write:none', 'realloc:pointer', 'posix_memalign:pointer', 'mallopt:value',
        'malloc_usable_size:value', 'free:none', 'free:none', 'malloc_trim:value', 'mallinfo2:mallinfo2', 'malloc_stats:stats', 'malloc:pointer',
        'thread_exit:none', 'free:none', 'free:aborted', 'HeapAborted', 'HeapForgotten',
      ]);
      const aborted = real.find((e) => e.type === 'HeapAborted');
      expect(aborted?.type === 'HeapAborted' && [aborted.signal, aborted.message]).toEqual(['SIGABRT', 'free(): double free detected in tcache 2']);
      expect(real.some((e) => e.type === 'HeapCallCompleted' && e.syscalls.length > 0 && e.touches.length > 0)).toBe(true);
    });

    it('round-trips every event exactly, and through EnvelopeBatch bytes', () => {
      for (const e of real) expect(heapCodec.fromProto(heapCodec.toProto(e))).toStrictEqual(e);
      expectEnvelopeRoundTrip(heapCodec, real, 4);
    });
  });
});
