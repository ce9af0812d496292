// Committed_AS, overcommit modes and rlimits, with the expectations of the reference's measured
// table (1 GiB mappings on a 6.18 kernel) and of mm/util.c __vm_enough_memory.
import { describe, expect, it } from 'vitest';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import type { VmSysctls } from '../machine/config.js';
import { commitLimit } from './queries.js';

const GiB = 1 << 30;
const P = GiB / 4096;
const RAM = 4 << 20; // 16 GiB of pages
const PROT_R = 1;
const PROT_RW = 3;
const PRIV_ANON = 0x22;
const SHARED_ANON = 0x21;
const NORESERVE = 0x4000;

function machine(sysctl: Partial<VmSysctls> = {}, swap = 0): TestMachine {
  return new TestMachine(vm, RAM, swap, sysctl);
}

function delta(t: TestMachine, f: () => unknown): number {
  const before = t.state.sc.committed;
  f();
  return t.state.sc.committed - before;
}

describe('Committed_AS charges (the measured table)', () => {
  it('private anonymous writable: +1 GiB; given back by munmap', () => {
    const t = machine();
    const pid = t.spawn();
    let a = 0;
    expect(delta(t, () => (a = t.mmap(pid, GiB)))).toBe(P);
    expect(delta(t, () => t.sys(pid, { nr: 'munmap', addr: a, length: GiB }))).toBe(-P);
  });

  it('private read-only: 0', () => {
    const t = machine();
    const pid = t.spawn();
    expect(delta(t, () => t.mmap(pid, GiB, PROT_R))).toBe(0);
  });

  it('MAP_NORESERVE: 0 in modes 0 and 1, charged in mode 2', () => {
    for (const mode of [0, 1] as const) {
      const t = machine({ overcommit_memory: mode });
      const pid = t.spawn();
      expect(delta(t, () => t.mmap(pid, GiB, PROT_RW, PRIV_ANON | NORESERVE))).toBe(0);
    }
    const t = machine({ overcommit_memory: 2 });
    const pid = t.spawn();
    expect(delta(t, () => t.mmap(pid, GiB, PROT_RW, PRIV_ANON | NORESERVE))).toBe(P);
  });

  it('shared anonymous: +1 GiB (shmem), given back when its last mapping goes', () => {
    const t = machine();
    const pid = t.spawn();
    let a = 0;
    expect(delta(t, () => (a = t.mmap(pid, GiB, PROT_RW, SHARED_ANON)))).toBe(P);
    const child = t.handle({ type: 'Fork', pid }).answer as number;
    expect(delta(t, () => t.sys(pid, { nr: 'munmap', addr: a, length: GiB }))).toBe(0);
    expect(delta(t, () => t.sys(child, { nr: 'munmap', addr: a, length: GiB }))).toBe(-P);
  });

  it('read-only, then mprotect writable: +1 GiB at the mprotect; read-only again without a write gives it back', () => {
    const t = machine();
    const pid = t.spawn();
    const a = t.mmap(pid, GiB, PROT_R);
    expect(delta(t, () => t.sys(pid, { nr: 'mprotect', addr: a, length: GiB, prot: PROT_RW }))).toBe(P);
    expect(delta(t, () => t.sys(pid, { nr: 'mprotect', addr: a, length: GiB, prot: PROT_R }))).toBe(-P);
    // Written once (an anon_vma exists): the charge stays.
    t.sys(pid, { nr: 'mprotect', addr: a, length: GiB, prot: PROT_RW });
    t.touch(pid, [{ addr: a, length: 1 }]);
    expect(delta(t, () => t.sys(pid, { nr: 'mprotect', addr: a, length: GiB, prot: PROT_R }))).toBe(0);
  });

  it('file MAP_PRIVATE writable: +1 GiB; file MAP_SHARED: 0', () => {
    const t = machine();
    const pid = t.spawn();
    const fd = t.handle({ type: 'CreateFile', path: '/data/big', sizeBytes: GiB }).answer as number;
    expect(delta(t, () => t.sys(pid, { nr: 'mmap', addr: 0, length: GiB, prot: PROT_RW, flags: 0x02, fd, offset: 0 }))).toBe(P);
    expect(delta(t, () => t.sys(pid, { nr: 'mmap', addr: 0, length: GiB, prot: PROT_RW, flags: 0x01, fd, offset: 0 }))).toBe(0);
  });

  it('brk: charged as it grows, given back as it shrinks', () => {
    const t = machine();
    const pid = t.spawn();
    const b = t.sys(pid, { nr: 'brk', addr: 0 });
    expect(delta(t, () => t.sys(pid, { nr: 'brk', addr: b + 135168 }))).toBe(33);
    expect(delta(t, () => t.sys(pid, { nr: 'brk', addr: b + 4096 }))).toBe(-32);
    // Within the same page: nothing.
    expect(delta(t, () => t.sys(pid, { nr: 'brk', addr: b + 100 }))).toBe(0);
  });

  it('the stack: charged as it grows below its VMA', () => {
    const t = machine();
    const pid = t.spawn();
    const stack = t.mm(pid).vmas.find((v) => v.flags & 0x100)!;
    expect(delta(t, () => t.touch(pid, [{ addr: stack.start - 3 * 4096, length: 8 }]))).toBe(3);
    expect(t.mm(pid).vmas.find((v) => v.flags & 0x100)!.start).toBe(stack.start - 3 * 4096);
  });

  it('fork charges the child for every VM_ACCOUNT mapping', () => {
    const t = machine();
    const pid = t.spawn();
    t.mmap(pid, GiB);
    const accounted = t.mm(pid).vmas.filter((v) => v.flags & 0x100000).reduce((n, v) => n + (v.end - v.start) / 4096, 0);
    expect(delta(t, () => t.handle({ type: 'Fork', pid }))).toBe(accounted);
  });

  it('MAP_FIXED over an accounted mapping keeps the pages it replaces charged once', () => {
    const t = machine();
    const pid = t.spawn();
    const a = t.mmap(pid, 2 * GiB);
    expect(delta(t, () => t.mmap(pid, GiB, PROT_RW, PRIV_ANON | 0x10, a))).toBe(0);
    expect(delta(t, () => t.mmap(pid, GiB, PROT_R, PRIV_ANON | 0x10, a))).toBe(-P);
  });

  it('exit gives everything back', () => {
    const t = machine();
    const before = t.state.sc.committed;
    const pid = t.spawn();
    t.mmap(pid, GiB);
    t.mmap(pid, GiB, PROT_RW, SHARED_ANON);
    t.handle({ type: 'Exit', pid });
    expect(t.state.sc.committed).toBe(before);
  });
});

describe('overcommit modes', () => {
  it('mode 0 refuses only a single request larger than RAM + swap', () => {
    const t = machine({}, 1 << 18);
    const pid = t.spawn();
    const total = (RAM + (1 << 18)) * 4096;
    expect(t.mmap(pid, total + 4096)).toBe(-12);
    expect(t.mmap(pid, total)).toBeGreaterThan(0);
    expect(t.mmap(pid, total)).toBeGreaterThan(0); // not cumulative
    expect(t.oom.requests).toHaveLength(0);
  });

  it('mode 1 agrees to anything that fits the address space', () => {
    const t = machine({ overcommit_memory: 1 });
    const pid = t.spawn();
    expect(t.mmap(pid, 64 * GiB)).toBeGreaterThan(0);
  });

  it('mode 2 refuses the mapping that would reach the limit (committed + pages < allowed)', () => {
    const t = machine({ overcommit_memory: 2 });
    const pid = t.spawn('user', { uid: 1000 });
    const s = t.state;
    const limit = commitLimit(s);
    expect(limit).toBe(RAM / 2);
    const mm = t.mm(pid);
    // allowed = CommitLimit - admin_reserve (non-admin) - min(total_vm / 32, user_reserve)
    const allowed = limit - s.sc.adminReserveKbytes / 4 - Math.min(Math.floor(mm.totalVm / 32), s.sc.userReserveKbytes / 4);
    const room = allowed - s.sc.committed - 1; // the largest request that passes
    expect(t.mmap(pid, (room + 1) * 4096)).toBe(-12);
    expect(t.mmap(pid, room * 4096)).toBeGreaterThan(0);
    expect(t.mmap(pid, 4096)).toBe(-12);
    expect(t.mmap(pid, 4096, PROT_R)).toBeGreaterThan(0); // read-only is not charged
    expect(t.oom.requests).toHaveLength(0);
  });

  it('mode 2 keeps the admin reserve for CAP_SYS_ADMIN', () => {
    const t = machine({ overcommit_memory: 2 });
    const user = t.spawn('user', { uid: 1000 });
    const root = t.spawn('root', { uid: 0 });
    const s = t.state;
    const allowed = commitLimit(s) - s.sc.adminReserveKbytes / 4 - Math.min(Math.floor(t.mm(user).totalVm / 32), s.sc.userReserveKbytes / 4);
    const room = allowed - s.sc.committed - 1;
    expect(t.mmap(user, room * 4096)).toBeGreaterThan(0);
    expect(t.mmap(user, 4096)).toBe(-12);
    expect(t.mmap(root, 4096)).toBeGreaterThan(0);
  });

  it('mode 2 ignores MAP_NORESERVE', () => {
    const t = machine({ overcommit_memory: 2 });
    const pid = t.spawn('user', { uid: 1000 });
    expect(t.mmap(pid, 16 * GiB, PROT_RW, PRIV_ANON | NORESERVE)).toBe(-12);
  });

  it('setting overcommit_ratio clears overcommit_kbytes and the other way round', () => {
    const t = machine();
    t.handle({ type: 'SetSysctl', name: 'overcommit_kbytes', value: 4096 });
    expect(t.state.sc.sysctl.overcommit_ratio).toBe(0);
    expect(commitLimit(t.state)).toBe(1024);
    t.handle({ type: 'SetSysctl', name: 'overcommit_ratio', value: 25 });
    expect(t.state.sc.sysctl.overcommit_kbytes).toBe(0);
    expect(commitLimit(t.state)).toBe(RAM / 4);
  });
});

describe('RLIMIT_AS and RLIMIT_DATA: -ENOMEM, no OOM', () => {
  it('RLIMIT_AS (may_expand_vm) refuses mmap, brk and mremap growth past total_vm', () => {
    const t = machine();
    const pid = t.spawn('capped', { rlimits: { as: 64 << 20 } });
    const vmBytes = t.mm(pid).totalVm * 4096;
    const room = (64 << 20) - vmBytes;
    expect(t.mmap(pid, room + 4096)).toBe(-12);
    const a = t.mmap(pid, room - 8192);
    expect(a).toBeGreaterThan(0);
    const b = t.sys(pid, { nr: 'brk', addr: 0 });
    expect(t.sys(pid, { nr: 'brk', addr: b + 3 * 4096 })).toBe(b); // refused: the old break
    expect(t.sys(pid, { nr: 'brk', addr: b + 2 * 4096 })).toBe(b + 2 * 4096);
    expect(t.sys(pid, { nr: 'mremap', oldAddr: a, oldSize: room - 8192, newSize: room, flags: 1 })).toBe(-12);
    expect(t.oom.requests).toHaveLength(0);
  });

  it('RLIMIT_DATA limits private writable mappings (not read-only, not shared) and brk', () => {
    const t = machine();
    const pid = t.spawn('capped', { rlimits: { data: 16 << 20 } });
    const dataBytes = t.mm(pid).dataVm * 4096;
    expect(t.mmap(pid, (16 << 20) - dataBytes + 4096)).toBe(-12);
    expect(t.mmap(pid, 32 << 20, PROT_R)).toBeGreaterThan(0);
    expect(t.mmap(pid, 32 << 20, PROT_RW, SHARED_ANON)).toBeGreaterThan(0);
    // brk: (brk - start_brk) + (end_data - start_data) > RLIMIT_DATA
    const mm = t.mm(pid);
    const b = mm.startBrk;
    const max = (16 << 20) - (mm.endData - mm.startData);
    expect(t.sys(pid, { nr: 'brk', addr: b + max + 1 })).toBe(b);
    expect(t.oom.requests).toHaveLength(0);
  });
});
