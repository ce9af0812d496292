import { describe, expect, it } from 'vitest';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import { pteAt } from './queries.js';
import { renderMaps, renderStatus, renderSmapsRollup, renderStat } from '../procfs/pid/index.js';

describe('vm smoke', () => {
  it('runs the common paths', () => {
    const t = new TestMachine(vm, 65536, 1024);
    const pid = t.spawn('sleep');
    const brk = t.sys(pid, { nr: 'brk', addr: 0 });
    expect(t.sys(pid, { nr: 'brk', addr: brk + 132 * 1024 })).toBe(brk + 132 * 1024);
    expect(t.touch(pid, [{ addr: brk, length: 16384 }])).toEqual({ ok: true });
    const a = t.mmap(pid, 1 << 20);
    expect(a % 4096).toBe(0);
    expect(t.touch(pid, [{ addr: a, length: 8192 }], [{ addr: a + 8192, length: 4096 }])).toEqual({ ok: true });
    expect(pteAt(t.state, pid, a + 8192).kind).toBe('zero');
    const child = t.handle({ type: 'Fork', pid }).answer as number;
    expect(child).toBeGreaterThan(pid);
    const p0 = pteAt(t.state, pid, a);
    const c0 = pteAt(t.state, child, a);
    expect(c0).toEqual(p0);
    expect(t.touch(child, [{ addr: a, length: 1 }])).toEqual({ ok: true });
    expect(pteAt(t.state, child, a)).not.toEqual(p0);
    expect(t.sys(pid, { nr: 'munmap', addr: a, length: 1 << 20 })).toBe(0);
    expect(t.sys(pid, { nr: 'mprotect', addr: brk, length: 4096, prot: 1 })).toBe(0);
    const big = t.mmap(pid, 4 << 20);
    expect(big % (2 << 20)).toBe(0);
    const moved = t.sys(pid, { nr: 'mremap', oldAddr: big, oldSize: 4 << 20, newSize: 8 << 20, flags: 1 });
    expect(moved).toBeGreaterThan(0);
    console.log(renderMaps(t.state, pid));
    console.log(renderStatus(t.state, pid));
    console.log(renderSmapsRollup(t.state, pid));
    console.log(renderStat(t.state, pid));
    t.handle({ type: 'Kill', pid: child });
    t.handle({ type: 'AdvanceTime', ns: 1e9 });
  });
});
