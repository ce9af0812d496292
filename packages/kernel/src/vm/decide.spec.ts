// The aggregate's contract: bad calls are Rejections before any event, kernel errors are results,
// decide() changes nothing (Needs included), the same inputs give the same events, and evolve()
// over the log rebuilds the same state (hash included).
import { describe, expect, it } from 'vitest';
import { given } from '../testing/given.js';
import { isNeed } from '../common/index.js';
import { createVm, stateHash, vm } from './aggregate.js';
import { TestMachine, testConfig } from './testing.js';
import type { VmEvent, VmState } from './types.js';
import { recomputeHash } from './world.js';
import { InProcessMachine } from '../machine/in-process.js';
import { fakeFrames, fakeOom } from './testing.js';

/** A machine whose vm events are all recorded. */
function recorded(seed = 42) {
  const events: VmEvent[] = [];
  const agg = createVm();
  const m = new InProcessMachine({ vma: agg, frames: fakeFrames(65536, 1024), oom: fakeOom() }, { onEvents: (svc, evs) => svc === 'vma' && events.push(...(evs as VmEvent[])) });
  m.handle('vma', { type: 'CreateMachine', config: testConfig(256, 4, {}, seed) });
  const pid = m.handle('vma', { type: 'Spawn', name: 'p' }).answer as number;
  const a = m.handle('vma', { type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: 1 << 20, prot: 3, flags: 0x22 } }).answer as number;
  m.handle('vma', { type: 'Touch', pid, writes: [{ addr: a, length: 1 << 19 }], reads: [{ addr: a + (1 << 19), length: 4096 }] });
  const child = m.handle('vma', { type: 'Fork', pid }).answer as number;
  m.handle('vma', { type: 'Touch', pid: child, writes: [{ addr: a, length: 8192 }], reads: [] });
  m.handle('vma', { type: 'Syscall', pid, call: { nr: 'munmap', addr: a + 4096, length: 4096 } });
  m.handle('vma', { type: 'Syscall', pid, call: { nr: 'mprotect', addr: a + 8192, length: 8192, prot: 1 } });
  m.handle('vma', { type: 'Syscall', pid, call: { nr: 'mremap', oldAddr: a + (1 << 19), oldSize: 1 << 19, newSize: 1 << 21, flags: 1 } });
  m.handle('vma', { type: 'CreateCgroup', path: '/g' });
  m.handle('vma', { type: 'SetOomScoreAdj', pid: child, value: 300 });
  m.handle('vma', { type: 'Kill', pid: child });
  m.handle('vma', { type: 'AdvanceTime', ns: 5e9 });
  return { events, state: m.state<VmState>('vma'), pid, a };
}

describe('bad calls are Rejections, kernel errors are results', () => {
  const { events, pid, a } = recorded();
  it('rejects commands before CreateMachine, unknown pids, non-integer arguments', () => {
    given(vm, []).when({ type: 'Spawn', name: 'x' }).thenRejects('vma.NO_MACHINE');
    given(vm, events).when({ type: 'Syscall', pid: 4242, call: { nr: 'brk', addr: 0 } }).thenRejects('vma.NO_SUCH_PID');
    given(vm, events).when({ type: 'Syscall', pid, call: { nr: 'munmap', addr: 0.5, length: 1 } }).thenRejects('vma.INVALID_ARGUMENT');
    given(vm, events).when({ type: 'Touch', pid, writes: [{ addr: -1, length: 1 }], reads: [] }).thenRejects('vma.INVALID_ARGUMENT');
    given(vm, events).when({ type: 'Syscall', pid: 2, call: { nr: 'brk', addr: 0 } }).thenRejects('vma.NO_MM');
    given(vm, events).when({ type: 'CreateMachine', config: testConfig(256) }).thenRejects('vma.MACHINE_EXISTS');
  });
  it('gives -EINVAL for what the kernel refuses with EINVAL (misaligned munmap, zero-length mmap, bad flags)', () => {
    given(vm, events).when({ type: 'Syscall', pid, call: { nr: 'munmap', addr: a + 1, length: 4096 } }).then([
      { type: 'SyscallReturned', pid, call: { nr: 'munmap', addr: a + 1, length: 4096 }, result: -22 },
    ]);
    const r = given(vm, events).when({ type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: 0, prot: 3, flags: 0x22 } }).events();
    expect(r.at(-1)).toMatchObject({ type: 'SyscallReturned', result: -22 });
    const f = given(vm, events).when({ type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: 4096, prot: 3, flags: 0x20 } }).events();
    expect(f.at(-1)).toMatchObject({ type: 'SyscallReturned', result: -22 }); // neither MAP_SHARED nor MAP_PRIVATE
    const n = given(vm, events).when({ type: 'Syscall', pid, call: { nr: 'munmap', addr: a, length: -1 } }).events();
    expect(n.at(-1)).toMatchObject({ type: 'SyscallReturned', result: -22 }); // (size_t)-1
  });
  it('brk(0) reads the break', () => {
    const s = given(vm, events);
    const out = s.when({ type: 'Syscall', pid, call: { nr: 'brk', addr: 0 } }).events();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ type: 'SyscallReturned', result: expect.any(Number) });
  });
});

describe('decide() is pure', () => {
  it('leaves the state (and its hash) as it was, also when it stops on a Need', () => {
    const { state, pid } = recorded();
    const before = stateHash(state);
    const snapshot = JSON.stringify([...state.tasks.values()]) + JSON.stringify([...state.mms.values()]);
    let needs = 0;
    for (const cmd of [
      { type: 'Syscall', pid, call: { nr: 'mmap', addr: 0, length: 1 << 22, prot: 3, flags: 0x22 | 0x8000 } },
      { type: 'Fork', pid },
      { type: 'Kill', pid },
      { type: 'Spawn', name: 'q' },
    ] as const) {
      try {
        vm.decide(cmd, state);
      } catch (e) {
        if (!isNeed(e)) throw e;
        needs++;
      }
    }
    expect(needs).toBeGreaterThan(0);
    expect(stateHash(state)).toBe(before);
    expect(JSON.stringify([...state.tasks.values()]) + JSON.stringify([...state.mms.values()])).toBe(snapshot);
  });
});

describe('determinism and replay', () => {
  it('the same seed gives the same events; another seed other addresses', () => {
    const x = recorded(7);
    const y = recorded(7);
    const z = recorded(8);
    expect(JSON.stringify(y.events)).toBe(JSON.stringify(x.events));
    expect(stateHash(y.state)).toBe(stateHash(x.state));
    expect(z.a).not.toBe(x.a);
  });

  it('evolve over the log rebuilds the state with the same hash, and the incremental hash equals a full recomputation', () => {
    const { events, state } = recorded();
    const agg = createVm();
    let s = agg.initialState();
    for (const e of events) s = agg.evolve(s, e);
    expect(stateHash(s)).toBe(stateHash(state));
    expect(s.hash.digest()).toBe(recomputeHash(state).digest());
    expect(state.hash.digest()).toBe(recomputeHash(state).digest());
  });

  it('events are plain data (JSON round trip)', () => {
    const { events } = recorded();
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('a resumed decide() gives what a fresh one gives with all the answers at once', () => {
    const x = new TestMachine(createVm(), 65536);
    const y = new TestMachine(createVm(), 65536);
    for (const t of [x, y]) t.spawn('p');
    const handled = x.m.handle('vma', { type: 'Spawn', name: 'fresh' });
    const answered = handled.command as { answers?: unknown[] };
    expect(answered.answers?.length).toBeGreaterThan(10); // page tables, page-cache lookups, allocations
    const fresh = createVm().decide(handled.command as never, y.state);
    expect(fresh).toEqual(handled.events);
  });
});
