import { describe, expect, it } from 'vitest';
import { InProcessMachine } from '../machine/in-process.js';
import { vm } from './aggregate.js';
import { fakeFrames, fakeOom, testConfig } from './testing.js';
import type { VmState } from './types.js';
import { mmOf, tasksInOrder } from './queries.js';

describe('vm smoke', () => {
  it('boots, spawns, touches', () => {
    const m = new InProcessMachine({ vma: vm, frames: fakeFrames(65536), oom: fakeOom() });
    const boot = m.handle('vma', { type: 'CreateMachine', config: testConfig(256) });
    expect(boot.events.length).toBeGreaterThan(10);
    const s = m.state<VmState>('vma');
    console.log(tasksInOrder(s).slice(0, 5).map((t) => `${t.pid} ${t.name} ${t.mmId}`));
    const mm1 = mmOf(s, 1)!;
    console.log(mm1.vmas.map((v) => `${v.start.toString(16)}-${v.end.toString(16)} ${v.kind} ${v.flags.toString(16)} ${v.name}`).join('\n'));
    console.log(mm1.rssAnon, mm1.rssFile, mm1.ptePages, mm1.pmdPages, mm1.pudPages, s.sc.committed);
    const r = m.handle('vma', { type: 'Spawn', name: 'sleep' });
    const pid = r.answer as number;
    expect(pid).toBe(1000);
    const brk = m.handle('vma', { type: 'Syscall', pid, call: { nr: 'brk', addr: 0 } }).answer as number;
    const nb = m.handle('vma', { type: 'Syscall', pid, call: { nr: 'brk', addr: brk + 132 * 1024 } }).answer as number;
    expect(nb).toBe(brk + 132 * 1024);
    const t = m.handle('vma', { type: 'Touch', pid, writes: [{ addr: brk, length: 8192 }], reads: [{ addr: brk + 8192, length: 4096 }] });
    expect(t.answer).toEqual({ ok: true });
    const mm = mmOf(s, pid)!;
    console.log(mm.rssAnon, mm.rssFile, mm.totalVm, s.sc.committed);
  });
});
