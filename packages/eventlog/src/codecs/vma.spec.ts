import { DEFAULT_SYSCTLS, SYSCALL_KILLED, type OomTrigger } from '@mmsim/kernel';
import type { TaskRecord, Vma, VmEvent } from '@mmsim/kernel/vm';
import * as pb from '@mmsim/proto';
import { describe, expect, it } from 'vitest';
import { expectEnvelopeRoundTrip, expectRoundTrip } from './codec-checks.testing.js';
import { recordRealEvents } from './real-events.testing.js';
import { EventCodecError } from './scalars.js';
import { vmaCodec } from './vma.js';

const RLIM_INFINITY = Number.MAX_SAFE_INTEGER;

const task: TaskRecord = {
  pid: 1000,
  tgid: 1000,
  ppid: 1,
  name: 'postgres',
  uid: 999,
  euid: 999,
  caps: { sysAdmin: false, sysResource: true, sysRawio: false, ipcLock: true },
  nice: -5,
  oomScoreAdj: -1000,
  oomScoreAdjMin: -1000,
  oomAdjWritten: null,
  rlimits: { as: RLIM_INFINITY, data: RLIM_INFINITY, stack: 8 * 2 ** 20, memlock: 0 },
  startTimeNs: 12_345_678_901,
  utimeTicks: 0,
  stimeTicks: 0,
  memcg: 3,
  isKthread: false,
  mmId: 7,
  env: ['MALLOC_ARENA_MAX=2', 'LANG=C.UTF-8'],
  seq: 53,
};

const kthread: TaskRecord = { ...task, pid: 2, tgid: 2, ppid: 0, name: 'kthreadd', uid: 0, euid: 0, nice: 0, oomScoreAdj: 0, oomScoreAdjMin: 0, oomAdjWritten: -17, isKthread: true, mmId: 0, env: [], seq: 2 };

const vma: Vma = { start: 0x7fff_f7a0_0000, end: 0x7fff_f7c0_0000, flags: 0x0010_0073, pgoff: 0x7_ffff_f7a0, kind: 'anon', file: 0, name: '', anon: true };

const trigger: OomTrigger = { pid: 1000, pages: 1, order: 0, gfp: 'GFP_HIGHUSER_MOVABLE', context: 'page-fault', constraint: { kind: 'memcg', memcg: 3 } };

/**
 * At least one event of every type. The mapped type makes a new VmEvent type a compile error
 * here (npx tsc) until it has a sample.
 */
const samples: { [K in VmEvent['type']]: Extract<VmEvent, { type: K }>[] } = {
  MachineCreated: [
    {
      type: 'MachineCreated',
      tenant: 'acme',
      machine: 'db-1',
      profile: 'linux-2.6.18',
      modelVersion: 2,
      seed: 2 ** 53 - 1,
      cpus: 64,
      ramBytes: 2 ** 38,
      swapBytes: 2 ** 40,
      sysctl: { ...DEFAULT_SYSCTLS, overcommit_memory: 2, overcommit_kbytes: 2 ** 34 },
      totals: { totalRamPages: 2 ** 26, totalSwapPages: 2 ** 28, hugetlbPages: 0, freePagesAtBoot: 66_000_000 },
      adminReserveKbytes: 8192,
      userReserveKbytes: 131072,
    },
  ],
  FileCreated: [
    { type: 'FileCreated', file: { id: 1, path: '/usr/lib/x86_64-linux-gnu/libc.so.6', inode: 2 ** 40, dev: 0xfe00, sizeBytes: 2_125_328, shmem: false, chargedPages: 0 } },
    { type: 'FileCreated', file: { id: 2, path: '', inode: 1, dev: 0, sizeBytes: 0, shmem: true, chargedPages: 2 ** 35 } },
  ],
  TaskSpawned: [
    {
      type: 'TaskSpawned',
      task,
      mmId: 7,
      layout: {
        mmapBase: 0x7fff_f7ff_f000,
        mmapLegacyBase: 0x2aaa_aaaa_b000,
        startCode: 0x5555_5555_4000,
        endCode: 0x5555_5555_5000,
        startData: 0x5555_5555_7000,
        endData: 0x5555_5555_8000,
        startBrk: 0x5555_5555_9000,
        brk: 0x5555_5555_9000,
        startStack: 0x7fff_ffff_e5a0,
        argStart: 0x7fff_ffff_e7b0,
        argEnd: 0x7fff_ffff_e7b9,
        envStart: 0x7fff_ffff_e7b9,
        envEnd: 0x7fff_ffff_efe6,
      },
      vmas: [vma, { ...vma, kind: 'file', file: 1, pgoff: 0, anon: false }, { ...vma, kind: 'shmem', file: 2 }, { ...vma, kind: 'special', name: '[vdso]', anon: false, flags: 0x0400_0075 }],
      chargedPages: 48,
      aslr: [0xffff_ffff, 0, 1, 0x8000_0000],
      kernelStackPages: 0,
    },
    { type: 'TaskSpawned', task: kthread, mmId: 0, layout: null, vmas: [], chargedPages: 0, aslr: [1, 0, 0, 0], kernelStackPages: 4 },
  ],
  TaskForked: [
    { type: 'TaskForked', parent: 1000, task: { ...task, pid: 1001, tgid: 1001, ppid: 1000, oomAdjWritten: 15 }, shareVm: false, chargedPages: 1024, tableKeys: [4 * 2 ** 26 + 1, 8], tablePfns: [3000, 3001], kernelStackPages: 4 },
    { type: 'TaskForked', parent: 1000, task: { ...task, pid: 1002 }, shareVm: true, chargedPages: 0, tableKeys: [], tablePfns: [], kernelStackPages: 0 },
  ],
  ThreadCloned: [{ type: 'ThreadCloned', task: { ...task, pid: 1003 }, kernelStackPages: 4 }],
  TaskExited: [
    { type: 'TaskExited', pid: 1000, code: 0, signal: 9, oomVictim: true },
    { type: 'TaskExited', pid: 1001, code: -1, signal: 0, oomVictim: false },
  ],
  KillPending: [{ type: 'KillPending', pid: 1000, oomVictim: true }],
  TaskReaped: [{ type: 'TaskReaped', pid: 1000 }],
  PageTablesAllocated: [{ type: 'PageTablesAllocated', mmId: 7, keys: [0x3_ffff_fff8, 1], pfns: [42, 43] }],
  PagesFaulted: [
    { type: 'PagesFaulted', pid: 1000, mmId: 7, how: 'anon', write: true, vpns: [0x7_ffff_f7a0, 16], pfns: [100, 16], majorFaults: 0 },
    ...(['zero', 'cow', 'reuse', 'file', 'shmem', 'swapin', 'redirty'] as const).map((how) => ({
      type: 'PagesFaulted' as const, pid: 1000, mmId: 7, how, write: how !== 'zero', vpns: [1, 1], pfns: how === 'zero' ? [] : [5, 1], majorFaults: how === 'swapin' ? 1 : 0,
    })),
  ],
  PagesEvicted: [{ type: 'PagesEvicted', runs: [{ pfn: 9, count: 3, kind: 'anon', owner: 7, index: 0x7_ffff_f7a0, slot: 12 }, { pfn: 1, count: 1, kind: 'file', owner: 1, index: 0, slot: -1 }] }],
  BrkMoved: [
    { type: 'BrkMoved', pid: 1000, mmId: 7, oldBrk: 0x5555_5555_9000, newBrk: 0x5555_5557_a000, chargedPages: 33 },
    { type: 'BrkMoved', pid: 1000, mmId: 7, oldBrk: 0x5555_5557_a000, newBrk: 0x5555_5555_9000, chargedPages: -33 },
  ],
  VmaMapped: [
    { type: 'VmaMapped', pid: 1000, mmId: 7, vma, chargedPages: 512, shmem: null },
    { type: 'VmaMapped', pid: 1000, mmId: 7, vma: { ...vma, kind: 'shmem', file: 9 }, chargedPages: 0, shmem: { id: 9, path: '/dev/zero (deleted)', inode: 3, dev: 1, sizeBytes: 2 ** 21, shmem: true, chargedPages: 512 } },
  ],
  VmaUnmapped: [{ type: 'VmaUnmapped', pid: 1000, mmId: 7, start: 0x7fff_f7a0_0000, end: 0x7fff_f7a0_1000 }],
  VmaProtected: [{ type: 'VmaProtected', pid: 1000, mmId: 7, start: 0x7fff_f7a0_0000, end: 0x7fff_f7a0_1000, prot: 0, chargedPages: 0 }],
  VmaRemapped: [{ type: 'VmaRemapped', pid: 1000, mmId: 7, oldStart: 0x1000, oldEnd: 0x3000, newStart: 0x7fff_0000_0000, newEnd: 0x7fff_0000_1000, chargedPages: -1 }],
  VmaLocked: [{ type: 'VmaLocked', pid: 1000, mmId: 7, start: 0, end: 4096, locked: true }],
  PagesZapped: [{ type: 'PagesZapped', pid: 1000, mmId: 7, start: 4096, end: 8192 }],
  PagesLazyFreed: [{ type: 'PagesLazyFreed', pid: 1000, mmId: 7, start: 4096, end: 8192 }],
  StackExpanded: [{ type: 'StackExpanded', pid: 1000, mmId: 7, newStart: 0x7fff_fffd_d000, chargedPages: 1 }],
  SyscallReturned: [
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'brk', addr: 0 }, result: 0x5555_5555_9000 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mmap', addr: 0, length: 2 ** 40, prot: 3, flags: 0x4022 }, result: -12 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mmap', addr: 0, length: 4096, prot: 1, flags: 0x02, fd: 3, offset: 2 ** 33 }, result: 0x7fff_f7ff_e000 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mmap', addr: 0, length: 4096, prot: 3, flags: 0x22, fd: -1, offset: 0 }, result: 0x7fff_f7ff_d000 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'munmap', addr: 0x7fff_f7ff_d000, length: 4096 }, result: 0 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mremap', oldAddr: 0x1000, oldSize: 4096, newSize: 8192, flags: 1 }, result: SYSCALL_KILLED },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mremap', oldAddr: 0x1000, oldSize: 4096, newSize: 8192, flags: 3, newAddr: 0x10_0000 }, result: 0x10_0000 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mprotect', addr: 0x1000, length: 4096, prot: 0 }, result: -22 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'madvise', addr: 0x1000, length: 4096, advice: 8 }, result: 0 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'mlock', addr: 0x1000, length: 4096 }, result: -11 },
    { type: 'SyscallReturned', pid: 1000, call: { nr: 'munlock', addr: 0x1000, length: 4096 }, result: 0 },
  ],
  TouchCompleted: [
    { type: 'TouchCompleted', pid: 1000, result: { ok: true } },
    { type: 'TouchCompleted', pid: 1000, result: { ok: false, signal: 'SIGKILL', addr: 0x7fff_f7a0_3000 } },
    { type: 'TouchCompleted', pid: 1000, result: { ok: false, signal: 'SIGSEGV', addr: 0 } },
    { type: 'TouchCompleted', pid: 1000, result: { ok: false, blocked: 'oom-wait', addr: 4096 } },
    { type: 'TouchCompleted', pid: 1000, result: { ok: false, blocked: 'oom-none', addr: 4096 } },
    { type: 'TouchCompleted', pid: 1000, result: { ok: false, blocked: 'panic', addr: 4096 } },
  ],
  OomKillApplied: [
    {
      type: 'OomKillApplied',
      trigger,
      verdict: {
        kind: 'kill',
        victim: 1000,
        kill: [1000, 1002],
        killSeq: 3,
        memcgEvents: [{ memcg: 3, event: 'oom' }, { memcg: 3, event: 'oom_kill' }],
        logLines: ['Memory cgroup out of memory: Killed process 1000 (postgres)'],
        oomVictims: [1000, 1002],
        oomKillCount: 2,
        reapAfterNs: 2e9,
      },
      killed: [1000, 1002],
    },
    { type: 'OomKillApplied', trigger: { ...trigger, constraint: { kind: 'global' } }, verdict: { kind: 'kill', victim: 1000, kill: [1000], killSeq: 1 }, killed: [1000] },
    { type: 'OomKillApplied', trigger, verdict: { kind: 'wait', reason: 'victim-not-reaped (pid 1000)', memcgEvents: [], logLines: [], oomVictims: [], reapAfterNs: -1 }, killed: [] },
    { type: 'OomKillApplied', trigger, verdict: { kind: 'none', reason: 'no-candidate', chargeFails: true, memcgEvents: [{ memcg: 3, event: 'oom' }], logLines: [] }, killed: [] },
    { type: 'OomKillApplied', trigger, verdict: { kind: 'none', reason: 'gfp-no-fs', chargeFails: false }, killed: [] },
    { type: 'OomKillApplied', trigger, verdict: { kind: 'panic', reason: 'Out of memory: system-wide panic_on_oom is enabled', oomKillCount: 0 }, killed: [] },
  ],
  OomReaped: [{ type: 'OomReaped', pid: 1000, mmId: 7 }],
  OomSkipSet: [{ type: 'OomSkipSet', mmId: 7 }],
  MachinePanicked: [{ type: 'MachinePanicked', reason: 'Out of memory: system-wide panic_on_oom is enabled' }],
  ClockAdvanced: [{ type: 'ClockAdvanced', nowNs: 2 ** 53 - 1 }],
  SysctlSet: [
    { type: 'SysctlSet', name: 'overcommit_memory', value: 2 },
    { type: 'SysctlSet', name: 'admin_reserve_kbytes', value: -1 },
    { type: 'SysctlSet', name: 'overcommit_kbytes', value: 2 ** 40 },
  ],
  CgroupCreated: [
    { type: 'CgroupCreated', cgroup: { id: 0, path: '/', parent: -1, max: -1, high: -1, swapMax: -1, oomGroup: false, oom: 0, oomKill: 0, oomGroupKill: 0 } },
    { type: 'CgroupCreated', cgroup: { id: 3, path: '/system.slice/postgresql.service', parent: 0, max: 2 ** 33, high: 2 ** 32, swapMax: 0, oomGroup: true, oom: 1, oomKill: 2, oomGroupKill: 3 } },
  ],
  CgroupLimitSet: [{ type: 'CgroupLimitSet', id: 3, max: 2 ** 33, high: -1, swapMax: 0, oomGroup: true }],
  CgroupRemoved: [{ type: 'CgroupRemoved', id: 3 }],
  CgroupOomCounted: [{ type: 'CgroupOomCounted', id: 3, oom: 4, oomKill: 3, oomGroupKill: 0 }],
  TaskMoved: [{ type: 'TaskMoved', pid: 1000, memcg: 0 }],
  OomScoreAdjSet: [
    { type: 'OomScoreAdjSet', pids: [1000, 1003], value: -1000, legacyWritten: -17, adjMin: -1000 },
    { type: 'OomScoreAdjSet', pids: [1000], value: 500, legacyWritten: null, adjMin: 0 },
  ],
  NiceSet: [{ type: 'NiceSet', pid: 1000, nice: -20 }],
  RlimitSet: (['as', 'data', 'stack', 'memlock'] as const).map((resource) => ({ type: 'RlimitSet', pid: 1000, resource, value: resource === 'as' ? RLIM_INFINITY : 65536 })),
  CpuTimeAdded: [{ type: 'CpuTimeAdded', pid: 1000, utimeTicks: 2 ** 40, stimeTicks: 1 }],
  TaskStuckSet: [{ type: 'TaskStuckSet', pid: 1000, stuck: true }],
  CommandFailed: [{ type: 'CommandFailed', command: 'Fork', pid: 1000, errno: 12 }],
};

const all = Object.values(samples).flat() as VmEvent[];

describe('vma codec', () => {
  it.each(all.map((e, i) => [`${e.type} #${i}`, e] as const))('round-trips %s exactly', (_t, e) => {
    expectRoundTrip(vmaCodec, pb.VmaEvent, e);
  });

  it('keeps the heap\'s mmap (no fd/offset) apart from a file mmap', () => {
    const calls = samples.SyscallReturned.map((e) => vmaCodec.fromProto(vmaCodec.toProto(e))).map((e) => (e.type === 'SyscallReturned' ? e.call : null));
    expect(Object.keys(calls[1] ?? {}).sort()).toEqual(['addr', 'flags', 'length', 'nr', 'prot']);
    expect(calls[3]).toStrictEqual({ nr: 'mmap', addr: 0, length: 4096, prot: 3, flags: 0x22, fd: -1, offset: 0 });
    expect(Object.keys(calls[5] ?? {})).not.toContain('newAddr');
  });

  it('writes a user address as a uint64 varint and -errno as a sint64 (hand-encoded)', () => {
    // syscall_returned (21, LEN 16) { pid (1) = 7, call (2, LEN 10) { brk (1, LEN 8) { addr (1) = 2^47 - 4096 } }, result (3) = zigzag(-12) = 23 }
    const bytes = pb.VmaEvent.encode(vmaCodec.toProto({ type: 'SyscallReturned', pid: 7, call: { nr: 'brk', addr: 2 ** 47 - 4096 }, result: -12 })).finish();
    // 2^47 - 4096 = 0x7fff_ffff_f000: varint 80 e0 ff ff ff ff 1f (7 bytes)
    expect([...bytes]).toEqual([0xaa, 0x01, 0x10, 0x08, 0x07, 0x12, 0x0a, 0x0a, 0x08, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x18, 0x17]);
  });

  it('keeps a system call\'s address or length past 2^53 exactly (the kernel answers it ENOMEM), and refuses one no double holds', () => {
    const huge = { type: 'SyscallReturned' as const, pid: 7, call: { nr: 'mmap' as const, addr: 0, length: 2 ** 53 + 4096, prot: 3, flags: 0x22 }, result: -12 };
    expect(vmaCodec.fromProto(vmaCodec.toProto(huge))).toStrictEqual(huge);
    const top = { type: 'SyscallReturned' as const, pid: 7, call: { nr: 'brk' as const, addr: 2 ** 64 - 2048 }, result: 0 };
    expect(vmaCodec.fromProto(vmaCodec.toProto(top))).toStrictEqual(top);
    expect(() => vmaCodec.toProto({ ...top, call: { nr: 'brk', addr: 2 ** 64 } })).toThrow(/brk.addr: .* is not an integer in \[0, 2\^64\)/);
    const inexact = { event: { $case: 'syscallReturned' as const, value: { pid: 1, call: { call: { $case: 'brk' as const, value: { addr: 2n ** 53n + 1n } } }, result: 0n } } };
    expect(() => vmaCodec.fromProto(inexact)).toThrow(/brk.addr: 9007199254740993 is not a value a double holds exactly/);
  });

  it('refuses what the TS types cannot hold', () => {
    expect(() => vmaCodec.toProto({ type: 'BrkMoved', pid: 1, mmId: 1, oldBrk: -4096, newBrk: 0, chargedPages: 0 })).toThrow(/oldBrk: -4096 is not a non-negative safe integer/);
    expect(() => vmaCodec.toProto({ type: 'NiceSet', pid: 1, nice: 2 ** 31 })).toThrow(EventCodecError);
    expect(() => vmaCodec.fromProto({ event: { $case: 'sysctlSet', value: { name: 'vfs_cache_pressure', value: 100n } } })).toThrow(/vm sysctl/);
    expect(() => vmaCodec.fromProto({ event: { $case: 'taskReaped', value: { pid: 1 } } })).not.toThrow();
    const noMmapOffset = { event: { $case: 'syscallReturned' as const, value: { pid: 1, call: { call: { $case: 'mmap' as const, value: { addr: 0n, length: 1n, prot: 0, flags: 0, fd: 3 } } }, result: 0n } } };
    expect(() => vmaCodec.fromProto(noMmapOffset)).toThrow(/fd and offset come together/);
  });

  describe('real events (frames + vma + oom in one machine, linux-6.18)', () => {
    const real = recordRealEvents('linux-6.18').vma;

    it('has events of most types, each of a type the samples cover', () => {
      const types = new Set(real.map((e) => e.type));
      for (const t of types) expect(samples).toHaveProperty(t);
      for (const t of ['MachineCreated', 'TaskSpawned', 'PagesFaulted', 'PagesEvicted', 'OomKillApplied', 'SyscallReturned', 'MachinePanicked'] as const) expect(types).toContain(t);
      expect(types.size).toBeGreaterThanOrEqual(30);
    });

    it('round-trips every event exactly', () => {
      for (const e of real) expect(vmaCodec.fromProto(vmaCodec.toProto(e))).toStrictEqual(e);
    });

    it('round-trips through EnvelopeBatch bytes, the same bytes every time', () => {
      expectEnvelopeRoundTrip(vmaCodec, real);
    });
  });
});
