// The heap aggregate (glibc 2.36 ptmalloc) calling vm through the heap-sys contract, with the
// real frames and oom below: malloc moves the break or maps chunks, the stores fault pages in.
import { describe, expect, it } from 'vitest';
import { heap } from '../heap/aggregate/index.js';
import { FullMachine } from './full-machine.js';
import { testConfig } from './testing.js';
import { isMapped, pteAt, residentPages } from './queries.js';

describe('heap -> vm -> frames', () => {
  it('malloc and free of a process drive brk, mmap, munmap and page faults', () => {
    const fm = new FullMachine(testConfig(256, 0), {}, heap as never);
    const pid = fm.handle({ type: 'Spawn', name: 'app' }).answer as number;
    const task = fm.state.tasks.get(pid)!;
    const mm = () => fm.state.mms.get(task.mmId)!;
    fm.m.handle('heap', { type: 'CreateHeap', pid, brkStart: mm().startBrk, cpus: 2 });
    const small = fm.m.handle('heap', { type: 'Malloc', pid, tid: pid, size: 1000 }).answer as unknown;
    const ptr = (r: unknown): number => (r as { kind: string; value: number }).value;
    const addr = ptr(small);
    expect(mm().brk).toBeGreaterThan(mm().startBrk); // sbrk grew the heap
    expect(mm().vmas.some((v) => v.start === mm().startBrk)).toBe(true);
    expect(addr).toBeGreaterThan(mm().startBrk);
    expect(addr).toBeLessThan(mm().brk);
    // the allocator wrote the chunk header: that page is resident
    expect(pteAt(fm.state, pid, addr - 16).kind).toBe('present');
    // a large malloc is mmapped (above the 128 KiB threshold) and munmapped by free
    const bigAddr = ptr(fm.m.handle('heap', { type: 'Malloc', pid, tid: pid, size: 1 << 20 }).answer);
    expect(isMapped(fm.state, pid, bigAddr)).toBe(true);
    expect(bigAddr).toBeLessThan(mm().mmapBase);
    expect(residentPages(fm.state, pid, bigAddr - 16, 16)).toBe(1);
    fm.m.handle('heap', { type: 'Free', pid, tid: pid, ptr: bigAddr });
    expect(isMapped(fm.state, pid, bigAddr)).toBe(false);
  });
});
