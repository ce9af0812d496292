// The heap aggregate: Need rounds (Syscall, then the Touch of the call's stores), events that
// record every answer, evolve re-running them, decide leaving state alone, rejections, and the
// ways a process ends. Expected addresses are the measured ones (ptmalloc.spec.ts).
import { describe, expect, it } from 'vitest';
import { isNeed, type Need } from '../../common/aggregate.js';
import { isRejection } from '../../common/rejection.js';
import type { VmaRequest } from '../../contracts/heap-sys.js';
import { given } from '../../testing/given.js';
import { LocalSys } from '../trace/local-sys.js';
import { heap, HeapDivergence, type HeapCommand, type HeapEvent, type SyscallAnswer } from './index.js';

const BASE = 0x555555559000;
const PID = 42;
const created: HeapEvent = { type: 'HeapCreated', pid: PID, brkStart: BASE, env: [], cpus: 2, overcommitMemory: 0, thpMode: 'madvise', secure: false, modelVersion: 1 };

function need(f: () => unknown): Need<VmaRequest> {
  try {
    f();
  } catch (e) {
    if (isNeed(e)) return e as Need<VmaRequest>;
    throw e;
  }
  throw new Error('expected a Need');
}

/** Runs commands with a LocalSys answering vma's part, like a host would; returns every event. */
function host(opts: { brkLimit?: number; failMmap?: boolean } = {}) {
  const vma = new LocalSys({ brkStart: BASE, ...opts });
  let state = heap.initialState();
  const log: HeapEvent[] = [];
  const answer = (r: VmaRequest): SyscallAnswer => {
    if (r.type === 'Touch') {
      for (const w of r.writes) vma.write(w.addr, w.length);
      for (const x of r.reads) vma.read(x.addr, x.length);
      return { ok: true };
    }
    const c = r.call;
    switch (c.nr) {
      case 'brk':
        return vma.brk(c.addr);
      case 'mmap':
        return vma.mmap(c.addr, c.length, c.prot, c.flags);
      case 'munmap':
        return vma.munmap(c.addr, c.length);
      case 'mremap':
        return vma.mremap(c.oldAddr, c.oldSize, c.newSize, c.flags);
      case 'mprotect':
        return vma.mprotect(c.addr, c.length, c.prot);
      case 'madvise':
        return vma.madvise(c.addr, c.length, c.advice);
    }
  };
  const handle = (cmd: HeapCommand): HeapEvent[] => {
    let c = cmd;
    for (;;) {
      try {
        const evs = heap.decide(c, state);
        for (const e of evs) {
          state = heap.evolve(state, e);
          log.push(e);
        }
        return evs;
      } catch (e) {
        if (!isNeed(e)) throw e;
        const answers = 'answers' in c ? (c.answers ?? []) : [];
        c = { ...c, answers: [...answers, answer(e.request as VmaRequest)] } as HeapCommand;
      }
    }
  };
  return { handle, log, state: () => state, vma };
}

describe('a malloc that needs the kernel', () => {
  const malloc24: HeapCommand = { type: 'Malloc', pid: PID, tid: PID, size: 24 };

  it('asks for brk first, then sends the stores of the call as one Touch', () => {
    const g = given(heap, [created]);
    const n0 = need(() => g.when(malloc24).events());
    expect(n0.service).toBe('vma');
    expect(n0.index).toBe(0);
    expect(n0.request).toEqual({ type: 'Syscall', pid: PID, call: { nr: 'brk', addr: BASE + 0x21000 } });
    const n1 = need(() => g.when({ ...malloc24, answers: [BASE + 0x21000] }).events());
    expect(n1.index).toBe(1);
    expect(n1.request).toEqual({ type: 'Touch', pid: PID, writes: [{ addr: BASE, length: 4096 }], reads: [] });
  });

  it('records the call, its result and every answer', () => {
    given(heap, [created])
      .when({ ...malloc24, answers: [BASE + 0x21000, { ok: true }] })
      .then([
        {
          type: 'HeapCallCompleted',
          pid: PID,
          tid: PID,
          call: 'malloc',
          args: [24],
          result: { kind: 'pointer', value: BASE + 0x2a0 },
          syscalls: [{ seq: 0, call: { nr: 'brk', addr: BASE + 0x21000 }, result: BASE + 0x21000 }],
          touches: [{ seq: 1, writes: [{ addr: BASE, length: 4096 }], reads: [], result: { ok: true } }],
        },
      ]);
  });

  it('gets NULL when brk and every mmap fail (after trying a new arena, as tcache_init does)', () => {
    const h = host({ brkLimit: BASE, failMmap: true });
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    const evs = h.handle(malloc24);
    expect(evs[0]).toMatchObject({ result: { kind: 'pointer', value: 0 } });
    const calls = (evs[0] as unknown as { syscalls: { call: { nr: string; length?: number }; result: number }[] }).syscalls;
    // tcache_init: brk, the 1 MiB mmap fallback, then a new arena's heap (2 x 64 MiB, then 64 MiB)
    // twice, the chunk's own mmap; then malloc: brk and the fallback again
    expect(calls.map((c) => `${c.call.nr}${c.call.length ? ' ' + c.call.length : ''}=${c.result}`)).toEqual([
      `brk=${BASE}`,
      'mmap 1048576=-12',
      'mmap 134217728=-12',
      'mmap 67108864=-12',
      'mmap 134217728=-12',
      'mmap 67108864=-12',
      'mmap 4096=-12',
      `brk=${BASE}`,
      'mmap 1048576=-12',
    ]);
  });

  it('ends with the process gone when a touch is answered with SIGKILL', () => {
    given(heap, [created])
      .when({ ...malloc24, answers: [BASE + 0x21000, { ok: false, signal: 'SIGKILL', addr: BASE }] })
      .then([
        {
          type: 'HeapCallCompleted',
          pid: PID,
          tid: PID,
          call: 'malloc',
          args: [24],
          result: { kind: 'killed', signal: 'SIGKILL', addr: BASE },
          syscalls: [{ seq: 0, call: { nr: 'brk', addr: BASE + 0x21000 }, result: BASE + 0x21000 }],
          touches: [{ seq: 1, writes: [{ addr: BASE, length: 4096 }], reads: [], result: { ok: false, signal: 'SIGKILL', addr: BASE } }],
        },
        { type: 'HeapForgotten', pid: PID, reason: 'SIGKILL during malloc' },
      ]);
  });

  it('refuses (retry later) when the touch is blocked on an OOM', () => {
    given(heap, [created])
      .when({ ...malloc24, answers: [BASE + 0x21000, { ok: false, blocked: 'oom-wait', addr: BASE }] })
      .thenRejects('heap.BLOCKED');
  });

  it('refuses answers of the wrong kind, and answers to spare', () => {
    given(heap, [created]).when({ ...malloc24, answers: [{ ok: true }] }).thenRejects('heap.BAD_ANSWER');
    given(heap, [created])
      .when({ ...malloc24, answers: [BASE + 0x21000, { ok: true }, 5] })
      .thenRejects('heap.BAD_ANSWER');
  });
});

describe('decide and evolve', () => {
  it('decide leaves the state as it was, and evolve re-runs the call to the same state', () => {
    const h = host();
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    const p = h.handle({ type: 'Malloc', pid: PID, tid: PID, size: 1000 });
    const ptr = (p[0] as { result: { value: number } }).result.value;
    const before = heap.stateHash(h.state());
    expect(() => heap.decide({ type: 'Malloc', pid: PID, tid: PID, size: 200000 }, h.state())).toThrow();
    expect(() => heap.decide({ type: 'Free', pid: PID, tid: PID, ptr }, h.state())).toThrow();
    expect(heap.stateHash(h.state())).toBe(before);
    h.handle({ type: 'Free', pid: PID, tid: PID, ptr });
    h.handle({ type: 'Malloc', pid: PID, tid: 7, size: 4096 });
    h.handle({ type: 'Mallinfo2', pid: PID, tid: PID });
    const after = heap.stateHash(h.state());
    expect(after).not.toBe(before);
    let replayed = heap.initialState();
    for (const e of h.log) replayed = heap.evolve(replayed, e);
    expect(heap.stateHash(replayed)).toBe(after);
  });

  it('throws a divergence when the recorded result is not what the re-run gives', () => {
    const h = host();
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    h.handle({ type: 'Malloc', pid: PID, tid: PID, size: 24 });
    const [c, m] = h.log;
    const tampered = { ...m, result: { kind: 'pointer', value: BASE + 0x2c0 } } as HeapEvent;
    const s = heap.evolve(heap.initialState(), c);
    expect(() => heap.evolve(s, tampered)).toThrow(HeapDivergence);
    // the state is as before the bad event: the true event still applies
    expect(() => heap.evolve(s, m)).not.toThrow();
  });

  it('the second thread gets its own arena in a 64 MiB-aligned mmapped heap', () => {
    const h = host();
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    h.handle({ type: 'Malloc', pid: PID, tid: PID, size: 24 });
    const evs = h.handle({ type: 'Malloc', pid: PID, tid: PID + 1, size: 4096 });
    const p = (evs[0] as { result: { value: number } }).result.value;
    expect(p % 2 ** 26).toBe(0xb70); // as in sort.ht.gz: heap_info, malloc_state, the tcache chunk, then the block
    const calls = (evs[0] as unknown as { syscalls: { call: { nr: string; length?: number } }[] }).syscalls.map((s) => `${s.call.nr} ${s.call.length ?? ''}`.trim());
    expect(calls[0]).toBe('mmap 134217728');
    expect(calls).toContain('mprotect 135168');
  });
});

describe('rejections and endings', () => {
  it('refuses bad calls before any event', () => {
    given(heap, []).when({ type: 'Malloc', pid: 1, tid: 1, size: 8 }).thenRejects('heap.NO_SUCH_PROCESS');
    given(heap, [created]).when({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 }).thenRejects('heap.PROCESS_EXISTS');
    given(heap, [created]).when({ type: 'Malloc', pid: PID, tid: PID, size: -1 }).thenRejects('heap.BAD_COMMAND');
    given(heap, [created])
      .when({ type: 'Memalign', pid: PID, tid: PID, variant: 'bogus' as 'memalign', alignment: 64, size: 8 })
      .thenRejects('heap.BAD_COMMAND');
  });

  it('a double free aborts the process; later calls are refused; ForgetProcess drops it', () => {
    const h = host();
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    const p = (h.handle({ type: 'Malloc', pid: PID, tid: PID, size: 24 })[0] as { result: { value: number } }).result.value;
    h.handle({ type: 'Free', pid: PID, tid: PID, ptr: p });
    const evs = h.handle({ type: 'Free', pid: PID, tid: PID, ptr: p });
    expect(evs.map((e) => e.type)).toEqual(['HeapCallCompleted', 'HeapAborted']);
    expect(evs[1]).toEqual({ type: 'HeapAborted', pid: PID, signal: 'SIGABRT', message: 'free(): double free detected in tcache 2' });
    let caught: unknown;
    try {
      h.handle({ type: 'Malloc', pid: PID, tid: PID, size: 8 });
    } catch (e) {
      caught = e;
    }
    expect(isRejection(caught) && caught.code).toBe('heap.PROCESS_DEAD');
    expect(h.handle({ type: 'ForgetProcess', pid: PID, reason: 'exit' })).toEqual([{ type: 'HeapForgotten', pid: PID, reason: 'exit' }]);
    expect(h.state().procs.size).toBe(0);
  });

  it('answers a call with its result', () => {
    const h = host();
    h.handle({ type: 'CreateHeap', pid: PID, brkStart: BASE, cpus: 2 });
    const evs = h.handle({ type: 'MallocStats', pid: PID, tid: PID });
    expect(heap.answer?.({ type: 'MallocStats', pid: PID, tid: PID }, evs, h.state())).toEqual({
      kind: 'stats',
      text:
        'Arena 0:\nsystem bytes     =          0\nin use bytes     =          0\nTotal (incl. mmap):\n' +
        'system bytes     =          0\nin use bytes     =          0\nmax mmap regions =          0\nmax mmap bytes   =          0\n',
    });
  });
});
