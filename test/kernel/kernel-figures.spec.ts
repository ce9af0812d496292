// KernelStack and Mapped of /proc/meminfo (and vmstat's nr_kernel_stack, nr_mapped) through the
// API, with expectations from the kernel's rules:
//  - every task (each thread) has a THREAD_SIZE = 16 KiB kernel stack from copy_process() to
//    do_exit() (kernel/fork.c account_kernel_stack: NR_KERNEL_STACK_KB); init and the kernel
//    threads have theirs from boot;
//  - Mapped (NR_FILE_MAPPED) counts page-cache pages, file and shmem, that some PTE maps: it moves
//    when a page's mapcount goes 0 -> 1 and 1 -> 0 (folio_add_file_rmap / folio_remove_rmap), so
//    a page two processes map counts once; private anonymous pages never count.
// The log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMachine, expectLogReplays, MAP_ANONYMOUS, MAP_SHARED, meminfo, MiB, mmap, PAGE, PROT_READ, PROT_WRITE, spawn, startEmbedded, syscall, touch, vmstat,
  type EmbeddedServer,
} from './support.js';

const FILE = '/srv/data.bin';

describe('KernelStack and Mapped', () => {
  let srv: EmbeddedServer;
  const r: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'kfigures', { ramBytes: 256 * MiB });
    r.boot = await meminfo(c, m);
    r.bootVm = await vmstat(c, m);
    // Processes of 1, 2 and 4 threads.
    const one = await spawn(c, m, 'one');
    const two = await spawn(c, m, 'two');
    await c.vma.cloneThread({ machine: m, pid: two });
    const four = await spawn(c, m, 'four');
    for (let i = 0; i < 3; i++) await c.vma.cloneThread({ machine: m, pid: four });
    r.spawned = await meminfo(c, m);
    r.spawnedVm = await vmstat(c, m);
    await c.vma.exit({ machine: m, pid: four, code: 0 });
    r.fourExited = await meminfo(c, m);

    // The same page of one file, mapped MAP_SHARED and read by two processes.
    const a = await mmap(c, m, one, 4 * PAGE, { prot: PROT_READ, flags: MAP_SHARED, file: FILE, fileSize: 4 * PAGE });
    const b = await mmap(c, m, two, 4 * PAGE, { prot: PROT_READ, flags: MAP_SHARED, file: FILE, fileSize: 4 * PAGE });
    r.mapped0 = await meminfo(c, m);
    expect((await touch(c, m, one, a, PAGE, false)).ok).toBe(true);
    r.oneReads = await meminfo(c, m);
    expect((await touch(c, m, two, b, PAGE, false)).ok).toBe(true);
    r.twoReads = await meminfo(c, m);
    r.twoReadsVm = await vmstat(c, m);
    await syscall(c, m, one, 'munmap', [a, 4 * PAGE]);
    r.oneUnmaps = await meminfo(c, m);
    await syscall(c, m, two, 'munmap', [b, 4 * PAGE]);
    r.twoUnmaps = await meminfo(c, m);

    // Private anonymous memory written: AnonPages, never Mapped.
    const anon = await mmap(c, m, one, 1 * MiB);
    expect((await touch(c, m, one, anon, 1 * MiB, true)).ok).toBe(true);
    r.anon = await meminfo(c, m);
    // Shared anonymous memory (shmem) written: Mapped and Shmem.
    const shm = await mmap(c, m, one, 8 * PAGE, { prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS });
    expect((await touch(c, m, one, shm, 8 * PAGE, true)).ok).toBe(true);
    r.shmem = await meminfo(c, m);
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('boot: init and the 40 kernel threads of a 2-CPU machine have 16 kB each', () => {
    // init, kthreadd, and 16 + 5 (the second CPU's) + 18 kernel threads: 41 tasks * 16 kB.
    expect(r.boot.KernelStack).toBe(41 * 16);
    expect(r.bootVm.nr_kernel_stack).toBe(41 * 16);
  });

  it('processes of 1, 2 and 4 threads add 7 * 16 kB; the 4-thread one exiting gives 4 * 16 kB back', () => {
    expect(r.spawned.KernelStack - r.boot.KernelStack).toBe(7 * 16);
    expect(r.spawnedVm.nr_kernel_stack - r.bootVm.nr_kernel_stack).toBe(7 * 16);
    expect(r.spawned.KernelStack - r.fourExited.KernelStack).toBe(4 * 16);
  });

  it('the stacks are vmalloc space: VmallocUsed follows KernelStack', () => {
    expect(r.spawned.VmallocUsed - r.boot.VmallocUsed).toBe(7 * 16);
  });

  it('spawned programs map their pages of the program, ld.so and libc: Mapped is not 0', () => {
    expect(r.boot.Mapped).toBeGreaterThan(0);
    expect(r.spawned.Mapped).toBeGreaterThanOrEqual(r.boot.Mapped);
  });

  it('a file page two processes map counts once; munmap in one keeps it, in both drops it', () => {
    expect(r.oneReads.Mapped - r.mapped0.Mapped).toBe(4);
    expect(r.twoReads.Mapped).toBe(r.oneReads.Mapped);
    expect(r.twoReadsVm.nr_mapped * 4).toBe(r.twoReads.Mapped);
    expect(r.oneUnmaps.Mapped).toBe(r.twoReads.Mapped);
    expect(r.twoUnmaps.Mapped).toBe(r.mapped0.Mapped);
    // The page stays in the page cache.
    expect(r.twoUnmaps.Cached).toBe(r.twoReads.Cached);
  });

  it('private anonymous pages never count in Mapped; shared anonymous ones count in Mapped and Shmem', () => {
    expect(r.anon.Mapped).toBe(r.twoUnmaps.Mapped);
    expect(r.anon.AnonPages - r.twoUnmaps.AnonPages).toBeGreaterThanOrEqual(1024);
    expect(r.shmem.Mapped - r.anon.Mapped).toBe(8 * 4);
    expect(r.shmem.Shmem - r.anon.Shmem).toBe(8 * 4);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'kfigures');
  });
});
