// KernelStack and Mapped against the real frames: the expectations are worked out from the
// kernel's rules, not read off the model.
//  - KernelStack (NR_KERNEL_STACK_KB): every task has a THREAD_SIZE kernel stack from
//    copy_process() until do_exit(); 16 KiB on 6.18 x86-64, 8 KiB on 2.6.18. Charged to the
//    task's memcg (memory.current).
//  - Mapped (NR_FILE_MAPPED): page-cache pages (file and shmem) that at least one PTE maps; a
//    page counts once however many PTEs map it; anonymous pages never count.
import { describe, expect, it } from 'vitest';
import { framesFigures, memcgFigures } from '../frames/index.js';
import { meminfoInput, renderMeminfo, renderVmstat, vmstatValues } from '../procfs/index.js';
import { FullMachine } from './full-machine.js';
import { testConfig } from './testing.js';
import { committedPages, mappedFilePages, pteAt, taskOf } from './queries.js';
import type { VmCommand, VmEvent } from './types.js';

const KiB = 1024;
const MiB = 1 << 20;
const ENOMEM = 12;

/** init, kthreadd, then 16 kernel threads, 5 more per CPU after the first, and 18 more (boot.ts kernelThreadNames, as ps lists them). */
const bootTasks = (cpus: number): number => 1 + 1 + 16 + 5 * (cpus - 1) + 18;

function meminfo(fm: FullMachine): Record<string, number> {
  const text = renderMeminfo(meminfoInput(fm.frames, { committedAsPages: committedPages(fm.state), mappedPages: mappedFilePages(fm.state) }), 'linux-6.18');
  const out: Record<string, number> = {};
  for (const line of text.trim().split('\n')) {
    const [k, v] = line.split(/:\s+/);
    out[k] = parseInt(v, 10);
  }
  return out;
}

const spawn = (fm: FullMachine, name: string, extra: Partial<Extract<VmCommand, { type: 'Spawn' }>> = {}): number => fm.handle({ type: 'Spawn', name, ...extra }).answer as number;
const clone = (fm: FullMachine, pid: number): number => fm.handle({ type: 'CloneThread', pid }).answer as number;
const sys = (fm: FullMachine, pid: number, call: Extract<VmCommand, { type: 'Syscall' }>['call']): number => fm.handle({ type: 'Syscall', pid, call }).answer as number;
const read = (fm: FullMachine, pid: number, addr: number, length: number): unknown => fm.handle({ type: 'Touch', pid, writes: [], reads: [{ addr, length }] }).answer;
const write = (fm: FullMachine, pid: number, addr: number, length: number): unknown => fm.handle({ type: 'Touch', pid, writes: [{ addr, length }], reads: [] }).answer;
const kstackPages = (fm: FullMachine): number => framesFigures(fm.frames).kernel.kernel_stack;

describe('KernelStack', () => {
  it('is 16 kB per task from boot (init and the kernel threads have stacks too)', () => {
    const fm = new FullMachine(testConfig(256));
    // testConfig has 2 CPUs: 1 + 1 + 16 + 5 + 18 = 41 tasks, 41 * 16 = 656 kB.
    expect(bootTasks(2)).toBe(41);
    expect(meminfo(fm).KernelStack).toBe(656);
    expect(kstackPages(fm)).toBe(41 * 4);
  });

  it('grows by 16 kB per thread: processes of 1, 2 and 4 threads add 7 * 16 kB; an exit gives its threads back', () => {
    const fm = new FullMachine(testConfig(256));
    const boot = meminfo(fm).KernelStack;
    const a = spawn(fm, 'a');
    const b = spawn(fm, 'b');
    clone(fm, b);
    const c = spawn(fm, 'c');
    for (let i = 0; i < 3; i++) clone(fm, c);
    expect(meminfo(fm).KernelStack - boot).toBe(7 * 16);
    const vmstat = vmstatValues(fm.frames, {});
    expect(vmstat.nr_kernel_stack).toBe(boot + 7 * 16);
    expect(renderVmstat(vmstat, 'linux-6.18')).toContain(`nr_kernel_stack ${boot + 7 * 16}\n`);
    // c exits with its 4 threads: 3 stacks of a and b stay.
    fm.handle({ type: 'Exit', pid: c });
    expect(meminfo(fm).KernelStack - boot).toBe(3 * 16);
    // A zombie has no stack: do_exit() gave it back before the parent reaps it.
    const child = fm.handle({ type: 'Fork', pid: a }).answer as number;
    expect(meminfo(fm).KernelStack - boot).toBe(4 * 16);
    fm.handle({ type: 'Exit', pid: child });
    expect(taskOf(fm.state, child)?.state).toBe('zombie');
    expect(meminfo(fm).KernelStack - boot).toBe(3 * 16);
    // SIGKILL ends b's two threads.
    fm.handle({ type: 'Kill', pid: b });
    expect(meminfo(fm).KernelStack - boot).toBe(16);
  });

  it('fork and CLONE_VM fork take one stack each; 2.6.18 stacks are 8 kB', () => {
    const fm = new FullMachine(testConfig(256));
    const before = kstackPages(fm);
    const p = spawn(fm, 'p');
    fm.handle({ type: 'Fork', pid: p });
    fm.handle({ type: 'Fork', pid: p, shareVm: true });
    expect(kstackPages(fm) - before).toBe(3 * 4);

    const old = new FullMachine({ ...testConfig(256), profile: 'linux-2.6.18' });
    // THREAD_SIZE 8 KiB (THREAD_ORDER 1): 41 boot tasks * 2 pages.
    expect(kstackPages(old)).toBe(41 * 2);
    const q = spawn(old, 'q');
    clone(old, q);
    expect(kstackPages(old)).toBe(43 * 2);
  });

  it('is charged to the memcg the task starts in, and stays charged there when the task moves', () => {
    const fm = new FullMachine(testConfig(256));
    const g = fm.handle({ type: 'CreateCgroup', path: '/g' }).answer as number;
    const h = fm.handle({ type: 'CreateCgroup', path: '/h' }).answer as number;
    // No prefault: the new process has touched nothing, so its memcg holds only its stack.
    const p = spawn(fm, 'p', { cgroup: '/g', prefault: false });
    expect(memcgFigures(fm.frames, g)?.current).toBe(4);
    clone(fm, p);
    expect(memcgFigures(fm.frames, g)?.current).toBe(8);
    // cgroup v2 moves no charges with a task: the stacks stay on /g and are uncharged from /g.
    fm.handle({ type: 'MoveToCgroup', pid: p, path: '/h' });
    expect(memcgFigures(fm.frames, h)?.current).toBe(0);
    fm.handle({ type: 'Exit', pid: p });
    expect(memcgFigures(fm.frames, g)?.current).toBe(0);
  });

  it('a stack that cannot be had fails spawn, fork and clone with ENOMEM and leaves nothing behind', () => {
    const fm = new FullMachine(testConfig(256));
    const g = fm.handle({ type: 'CreateCgroup', path: '/g' }).answer as number;
    // memory.max of one stack (16 KiB = 4 pages): the first process fits, nothing more does
    // (kernel stacks are not reclaimable).
    fm.handle({ type: 'SetCgroupLimit', path: '/g', max: 16 * KiB });
    const p = spawn(fm, 'p', { cgroup: '/g', prefault: false });
    expect(p).toBeGreaterThan(0);
    const tasks = fm.state.tasks.size;
    const stacks = kstackPages(fm);
    const free = framesFigures(fm.frames).free;
    expect(fm.handle({ type: 'CloneThread', pid: p }).answer).toBe(-ENOMEM);
    expect(fm.handle({ type: 'Fork', pid: p }).answer).toBe(-ENOMEM);
    expect(fm.handle({ type: 'Fork', pid: p, shareVm: true }).answer).toBe(-ENOMEM);
    expect(spawn(fm, 'q', { cgroup: '/g', prefault: false })).toBe(-ENOMEM);
    expect(fm.state.tasks.size).toBe(tasks);
    expect(kstackPages(fm)).toBe(stacks);
    expect(framesFigures(fm.frames).free).toBe(free);
    expect(memcgFigures(fm.frames, g)?.current).toBe(4);
    // Room for one more stack: the thread can be made.
    fm.handle({ type: 'SetCgroupLimit', path: '/g', max: 32 * KiB });
    expect(clone(fm, p)).toBeGreaterThan(0);
    expect(memcgFigures(fm.frames, g)?.current).toBe(8);
  });
});

describe('Mapped', () => {
  const MAP_SHARED = 0x01;
  const MAP_PRIVATE = 0x02;
  const MAP_ANONYMOUS = 0x20;
  const PROT_READ = 1;
  const PROT_RW = 3;

  function setup(log?: VmEvent[]): { fm: FullMachine; file: number; a: number; b: number } {
    const fm = new FullMachine(testConfig(256), log ? { onEvents: (service, events) => service === 'vma' && log.push(...(events as VmEvent[])) } : {});
    const file = fm.handle({ type: 'CreateFile', path: '/data/f', sizeBytes: 16 * KiB }).answer as number;
    const a = spawn(fm, 'a');
    const b = spawn(fm, 'b');
    return { fm, file, a, b };
  }
  const mapFile = (fm: FullMachine, pid: number, file: number, flags: number, prot = PROT_READ): number =>
    sys(fm, pid, { nr: 'mmap', addr: 0, length: 16 * KiB, prot, flags, fd: file, offset: 0 });

  it('counts a file page two processes map once; it goes when the last mapping goes', () => {
    const { fm, file, a, b } = setup();
    const m0 = mappedFilePages(fm.state);
    const va = mapFile(fm, a, file, MAP_SHARED);
    expect(mappedFilePages(fm.state)).toBe(m0); // a mapping maps no page until a fault
    read(fm, a, va, 1);
    expect(mappedFilePages(fm.state)).toBe(m0 + 1);
    const vb = mapFile(fm, b, file, MAP_SHARED);
    read(fm, b, vb, 1); // the same page-cache page: mapcount 2, still one page
    expect(mappedFilePages(fm.state)).toBe(m0 + 1);
    read(fm, b, vb + 4 * KiB, 1); // page 1 of the file, b only
    expect(mappedFilePages(fm.state)).toBe(m0 + 2);
    expect(meminfo(fm).Mapped).toBe((m0 + 2) * 4);
    expect(vmstatValues(fm.frames, { mappedPages: mappedFilePages(fm.state) }).nr_mapped).toBe(m0 + 2);
    // munmap in a: b still maps both pages.
    sys(fm, a, { nr: 'munmap', addr: va, length: 16 * KiB });
    expect(mappedFilePages(fm.state)).toBe(m0 + 2);
    // munmap in b: nobody maps them; they stay in the page cache (Cached), not in Mapped.
    const cached = meminfo(fm).Cached;
    sys(fm, b, { nr: 'munmap', addr: vb, length: 16 * KiB });
    expect(mappedFilePages(fm.state)).toBe(m0);
    expect(meminfo(fm).Cached).toBe(cached);
  });

  it('a forked child mapping the same file pages adds nothing; they count until neither maps them', () => {
    const { fm, file, a } = setup();
    const va = mapFile(fm, a, file, MAP_SHARED);
    read(fm, a, va, 8 * KiB);
    const m1 = mappedFilePages(fm.state);
    const child = fm.handle({ type: 'Fork', pid: a }).answer as number;
    // fork copies no PTEs of a VMA without an anon_vma (copy_page_range); the child faults the
    // same page-cache pages in: each has mapcount 2, and Mapped does not move.
    read(fm, child, va, 8 * KiB);
    expect(mappedFilePages(fm.state)).toBe(m1);
    expect(pteAt(fm.state, a, va)).toMatchObject({ kind: 'present', anon: false, mapcount: 2 });
    sys(fm, a, { nr: 'munmap', addr: va, length: 16 * KiB });
    expect(mappedFilePages(fm.state)).toBe(m1);
    expect(pteAt(fm.state, child, va)).toMatchObject({ kind: 'present', anon: false, mapcount: 1 });
    // The parent's exit unmaps what only it mapped (its program's pages the child never
    // touched), not the two data pages; the child's exit then takes them out of Mapped.
    fm.handle({ type: 'Exit', pid: a });
    expect(pteAt(fm.state, child, va)).toMatchObject({ kind: 'present', mapcount: 1 });
    const before = mappedFilePages(fm.state);
    sys(fm, child, { nr: 'munmap', addr: va, length: 16 * KiB });
    expect(before - mappedFilePages(fm.state)).toBe(2);
  });

  it('private anonymous pages never count; shared anonymous (shmem) pages count in Mapped and Shmem', () => {
    const { fm, a, b } = setup();
    const m0 = mappedFilePages(fm.state);
    const before = meminfo(fm);
    const anon = sys(fm, a, { nr: 'mmap', addr: 0, length: 1 * MiB, prot: PROT_RW, flags: MAP_PRIVATE | MAP_ANONYMOUS, fd: -1, offset: 0 });
    write(fm, a, anon, 1 * MiB);
    read(fm, a, anon, 1 * MiB);
    expect(mappedFilePages(fm.state)).toBe(m0);
    expect(meminfo(fm).AnonPages - before.AnonPages).toBe(1024);
    const shm = sys(fm, a, { nr: 'mmap', addr: 0, length: 16 * KiB, prot: PROT_RW, flags: MAP_SHARED | MAP_ANONYMOUS, fd: -1, offset: 0 });
    write(fm, a, shm, 16 * KiB);
    expect(mappedFilePages(fm.state)).toBe(m0 + 4);
    expect(meminfo(fm).Mapped - before.Mapped).toBe(16);
    expect(meminfo(fm).Shmem - before.Shmem).toBe(16);
    // A fork's child maps the same shmem pages: still 4.
    const child = fm.handle({ type: 'Fork', pid: a }).answer as number;
    read(fm, child, shm, 16 * KiB);
    expect(mappedFilePages(fm.state)).toBe(m0 + 4);
    sys(fm, a, { nr: 'munmap', addr: shm, length: 16 * KiB });
    expect(mappedFilePages(fm.state)).toBe(m0 + 4);
    sys(fm, child, { nr: 'munmap', addr: shm, length: 16 * KiB });
    expect(mappedFilePages(fm.state)).toBe(m0);
    expect(b).toBeGreaterThan(0);
  });

  it('a write to a private file mapping replaces the page-cache page by an anonymous copy (COW): it leaves Mapped', () => {
    const { fm, file, a } = setup();
    const m0 = mappedFilePages(fm.state);
    const va = mapFile(fm, a, file, MAP_PRIVATE, PROT_RW);
    read(fm, a, va, 8 * KiB);
    expect(mappedFilePages(fm.state)).toBe(m0 + 2);
    write(fm, a, va, 1);
    expect(pteAt(fm.state, a, va)).toMatchObject({ kind: 'present', anon: true });
    expect(mappedFilePages(fm.state)).toBe(m0 + 1);
  });

  it('evolve rebuilds the same counts from the log, and a state that lost them counts them again from its PTEs', () => {
    const log: VmEvent[] = [];
    const { fm, file, a, b } = setup(log);
    const va = mapFile(fm, a, file, MAP_SHARED);
    read(fm, a, va, 16 * KiB);
    const vb = mapFile(fm, b, file, MAP_PRIVATE, PROT_RW);
    read(fm, b, vb, 16 * KiB);
    write(fm, b, vb, 4 * KiB);
    const live = mappedFilePages(fm.state);
    const rebuilt = fm.vm.initialState();
    for (const e of log) fm.vm.evolve(rebuilt, e);
    expect(fm.vm.stateHash(rebuilt)).toBe(fm.vm.stateHash(fm.state));
    expect(mappedFilePages(rebuilt)).toBe(live);
    expect([...(rebuilt.fileMaps ?? [])].sort((x, y) => x[0] - y[0])).toEqual([...(fm.state.fileMaps ?? [])].sort((x, y) => x[0] - y[0]));
    delete rebuilt.fileMaps;
    expect(mappedFilePages(rebuilt)).toBe(live);
  });
});
