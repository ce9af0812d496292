// The vma aggregate's event codec: kernel/src/vm/types.ts VmEvent <->
// proto/mmsim/v1/vma_events.proto VmaEvent. One case per event type, each field converted
// exactly (scalars.ts); fromProto(toProto(e)) deep-equals e, optional fields included.
import { DEFAULT_SYSCTLS, unreachable, type MachineConfig, type PrngState, type TouchResult, type VmSysctls } from '@mmsim/kernel';
import type { Caps, Cgroup, FaultHow, FileInfo, MmLayout, Rlimits, TaskRecord, Vma, VmaKind, VmCommandType, VmEvent, VmSyscall, VmTotals } from '@mmsim/kernel/vm';
import * as pb from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { evictedRunFromProto, evictedRunToProto } from './frames.js';
import { machineConfigFromProto, machineConfigToProto } from './machine-config.js';
import { signal, triggerFromProto, triggerToProto, verdictFromProto, verdictToProto } from './oom.js';
import { EventCodecError, enumMap, need, num, numArg, nums, oneOfStrings, s32, s64, u32, u32s, u64, u64Arg, u64s } from './scalars.js';

type Msg = pb.VmaEvent;

// ---------------------------------------------------------------------------------------------
// Enums

const vmaKind = enumMap<VmaKind, pb.VmaKind>('vma kind', {
  anon: pb.VmaKind.VMA_KIND_ANON,
  file: pb.VmaKind.VMA_KIND_FILE,
  shmem: pb.VmaKind.VMA_KIND_SHMEM,
  special: pb.VmaKind.VMA_KIND_SPECIAL,
});

const faultHow = enumMap<FaultHow, pb.FaultHow>('fault how', {
  zero: pb.FaultHow.FAULT_HOW_ZERO,
  anon: pb.FaultHow.FAULT_HOW_ANON,
  cow: pb.FaultHow.FAULT_HOW_COW,
  reuse: pb.FaultHow.FAULT_HOW_REUSE,
  file: pb.FaultHow.FAULT_HOW_FILE,
  shmem: pb.FaultHow.FAULT_HOW_SHMEM,
  swapin: pb.FaultHow.FAULT_HOW_SWAPIN,
  redirty: pb.FaultHow.FAULT_HOW_REDIRTY,
});

const rlimitResource = enumMap<keyof Rlimits, pb.RlimitResource>('rlimit', {
  as: pb.RlimitResource.RLIMIT_RESOURCE_AS,
  data: pb.RlimitResource.RLIMIT_RESOURCE_DATA,
  stack: pb.RlimitResource.RLIMIT_RESOURCE_STACK,
  memlock: pb.RlimitResource.RLIMIT_RESOURCE_MEMLOCK,
});

type Blocked = Extract<TouchResult, { blocked: string }>['blocked'];
const touchBlocked = enumMap<Blocked, pb.TouchBlocked>('touch blocked', {
  'oom-wait': pb.TouchBlocked.TOUCH_BLOCKED_OOM_WAIT,
  'oom-none': pb.TouchBlocked.TOUCH_BLOCKED_OOM_NONE,
  panic: pb.TouchBlocked.TOUCH_BLOCKED_PANIC,
});

const VM_SYSCTLS = Object.keys(DEFAULT_SYSCTLS) as (keyof VmSysctls)[];

// ---------------------------------------------------------------------------------------------
// Records

const totalsToProto = (t: VmTotals): pb.VmTotals => ({
  totalRamPages: u64(t.totalRamPages, 'totals.totalRamPages'),
  totalSwapPages: u64(t.totalSwapPages, 'totals.totalSwapPages'),
  hugetlbPages: u64(t.hugetlbPages, 'totals.hugetlbPages'),
  freePagesAtBoot: u64(t.freePagesAtBoot, 'totals.freePagesAtBoot'),
});

const totalsFromProto = (m: pb.VmTotals | undefined): VmTotals => {
  const t = need(m, 'totals');
  return {
    totalRamPages: num(t.totalRamPages, 'totals.totalRamPages'),
    totalSwapPages: num(t.totalSwapPages, 'totals.totalSwapPages'),
    hugetlbPages: num(t.hugetlbPages, 'totals.hugetlbPages'),
    freePagesAtBoot: num(t.freePagesAtBoot, 'totals.freePagesAtBoot'),
  };
};

const capsToProto = (c: Caps): pb.Caps => ({ sysAdmin: c.sysAdmin, sysResource: c.sysResource, sysRawio: c.sysRawio, ipcLock: c.ipcLock });
const capsFromProto = (m: pb.Caps | undefined): Caps => {
  const c = need(m, 'caps');
  return { sysAdmin: c.sysAdmin, sysResource: c.sysResource, sysRawio: c.sysRawio, ipcLock: c.ipcLock };
};

const rlimitsToProto = (r: Rlimits): pb.Rlimits => ({
  as: u64(r.as, 'rlimits.as'),
  data: u64(r.data, 'rlimits.data'),
  stack: u64(r.stack, 'rlimits.stack'),
  memlock: u64(r.memlock, 'rlimits.memlock'),
});
const rlimitsFromProto = (m: pb.Rlimits | undefined): Rlimits => {
  const r = need(m, 'rlimits');
  return { as: num(r.as, 'rlimits.as'), data: num(r.data, 'rlimits.data'), stack: num(r.stack, 'rlimits.stack'), memlock: num(r.memlock, 'rlimits.memlock') };
};

const taskToProto = (t: TaskRecord): pb.TaskRecord => ({
  pid: u32(t.pid, 'task.pid'),
  tgid: u32(t.tgid, 'task.tgid'),
  ppid: u32(t.ppid, 'task.ppid'),
  name: t.name,
  uid: u32(t.uid, 'task.uid'),
  euid: u32(t.euid, 'task.euid'),
  caps: capsToProto(t.caps),
  nice: s32(t.nice, 'task.nice'),
  oomScoreAdj: s32(t.oomScoreAdj, 'task.oomScoreAdj'),
  oomScoreAdjMin: s32(t.oomScoreAdjMin, 'task.oomScoreAdjMin'),
  oomAdjWritten: t.oomAdjWritten === null ? undefined : s32(t.oomAdjWritten, 'task.oomAdjWritten'),
  rlimits: rlimitsToProto(t.rlimits),
  startTimeNs: u64(t.startTimeNs, 'task.startTimeNs'),
  utimeTicks: u64(t.utimeTicks, 'task.utimeTicks'),
  stimeTicks: u64(t.stimeTicks, 'task.stimeTicks'),
  memcg: u32(t.memcg, 'task.memcg'),
  isKthread: t.isKthread,
  mmId: u32(t.mmId, 'task.mmId'),
  env: [...t.env],
  seq: u64(t.seq, 'task.seq'),
});

const taskFromProto = (m: pb.TaskRecord | undefined): TaskRecord => {
  const t = need(m, 'task');
  return {
    pid: t.pid,
    tgid: t.tgid,
    ppid: t.ppid,
    name: t.name,
    uid: t.uid,
    euid: t.euid,
    caps: capsFromProto(t.caps),
    nice: t.nice,
    oomScoreAdj: t.oomScoreAdj,
    oomScoreAdjMin: t.oomScoreAdjMin,
    oomAdjWritten: t.oomAdjWritten ?? null,
    rlimits: rlimitsFromProto(t.rlimits),
    startTimeNs: num(t.startTimeNs, 'task.startTimeNs'),
    utimeTicks: num(t.utimeTicks, 'task.utimeTicks'),
    stimeTicks: num(t.stimeTicks, 'task.stimeTicks'),
    memcg: t.memcg,
    isKthread: t.isKthread,
    mmId: t.mmId,
    env: t.env,
    seq: num(t.seq, 'task.seq'),
  };
};

const vmaToProto = (v: Vma): pb.Vma => ({
  start: u64(v.start, 'vma.start'),
  end: u64(v.end, 'vma.end'),
  flags: u64(v.flags, 'vma.flags'),
  pgoff: u64(v.pgoff, 'vma.pgoff'),
  kind: vmaKind.to(v.kind),
  file: u32(v.file, 'vma.file'),
  name: v.name,
  anon: v.anon,
});

const vmaFromProto = (m: pb.Vma | undefined): Vma => {
  const v = need(m, 'vma');
  return {
    start: num(v.start, 'vma.start'),
    end: num(v.end, 'vma.end'),
    flags: num(v.flags, 'vma.flags'),
    pgoff: num(v.pgoff, 'vma.pgoff'),
    kind: vmaKind.from(v.kind),
    file: v.file,
    name: v.name,
    anon: v.anon,
  };
};

const fileToProto = (f: FileInfo): pb.FileInfo => ({
  id: u32(f.id, 'file.id'),
  path: f.path,
  inode: u64(f.inode, 'file.inode'),
  dev: u32(f.dev, 'file.dev'),
  sizeBytes: u64(f.sizeBytes, 'file.sizeBytes'),
  shmem: f.shmem,
  chargedPages: u64(f.chargedPages, 'file.chargedPages'),
});

const fileFromProto = (m: pb.FileInfo | undefined): FileInfo => {
  const f = need(m, 'file');
  return {
    id: f.id,
    path: f.path,
    inode: num(f.inode, 'file.inode'),
    dev: f.dev,
    sizeBytes: num(f.sizeBytes, 'file.sizeBytes'),
    shmem: f.shmem,
    chargedPages: num(f.chargedPages, 'file.chargedPages'),
  };
};

const cgroupToProto = (c: Cgroup): pb.Cgroup => ({
  id: u32(c.id, 'cgroup.id'),
  path: c.path,
  parent: s32(c.parent, 'cgroup.parent'),
  max: s64(c.max, 'cgroup.max'),
  high: s64(c.high, 'cgroup.high'),
  swapMax: s64(c.swapMax, 'cgroup.swapMax'),
  oomGroup: c.oomGroup,
  oom: u64(c.oom, 'cgroup.oom'),
  oomKill: u64(c.oomKill, 'cgroup.oomKill'),
  oomGroupKill: u64(c.oomGroupKill, 'cgroup.oomGroupKill'),
});

const cgroupFromProto = (m: pb.Cgroup | undefined): Cgroup => {
  const c = need(m, 'cgroup');
  return {
    id: c.id,
    path: c.path,
    parent: c.parent,
    max: num(c.max, 'cgroup.max'),
    high: num(c.high, 'cgroup.high'),
    swapMax: num(c.swapMax, 'cgroup.swapMax'),
    oomGroup: c.oomGroup,
    oom: num(c.oom, 'cgroup.oom'),
    oomKill: num(c.oomKill, 'cgroup.oomKill'),
    oomGroupKill: num(c.oomGroupKill, 'cgroup.oomGroupKill'),
  };
};

const layoutToProto = (l: MmLayout): pb.MmLayout => ({
  mmapBase: u64(l.mmapBase, 'layout.mmapBase'),
  mmapLegacyBase: u64(l.mmapLegacyBase, 'layout.mmapLegacyBase'),
  startCode: u64(l.startCode, 'layout.startCode'),
  endCode: u64(l.endCode, 'layout.endCode'),
  startData: u64(l.startData, 'layout.startData'),
  endData: u64(l.endData, 'layout.endData'),
  startBrk: u64(l.startBrk, 'layout.startBrk'),
  brk: u64(l.brk, 'layout.brk'),
  startStack: u64(l.startStack, 'layout.startStack'),
  argStart: u64(l.argStart, 'layout.argStart'),
  argEnd: u64(l.argEnd, 'layout.argEnd'),
  envStart: u64(l.envStart, 'layout.envStart'),
  envEnd: u64(l.envEnd, 'layout.envEnd'),
});

const layoutFromProto = (l: pb.MmLayout): MmLayout => ({
  mmapBase: num(l.mmapBase, 'layout.mmapBase'),
  mmapLegacyBase: num(l.mmapLegacyBase, 'layout.mmapLegacyBase'),
  startCode: num(l.startCode, 'layout.startCode'),
  endCode: num(l.endCode, 'layout.endCode'),
  startData: num(l.startData, 'layout.startData'),
  endData: num(l.endData, 'layout.endData'),
  startBrk: num(l.startBrk, 'layout.startBrk'),
  brk: num(l.brk, 'layout.brk'),
  startStack: num(l.startStack, 'layout.startStack'),
  argStart: num(l.argStart, 'layout.argStart'),
  argEnd: num(l.argEnd, 'layout.argEnd'),
  envStart: num(l.envStart, 'layout.envStart'),
  envEnd: num(l.envEnd, 'layout.envEnd'),
});

const prngToProto = (s: PrngState): pb.PrngState => ({ s0: u32(s[0], 'aslr[0]'), s1: u32(s[1], 'aslr[1]'), s2: u32(s[2], 'aslr[2]'), s3: u32(s[3], 'aslr[3]') });
const prngFromProto = (m: pb.PrngState | undefined): PrngState => {
  const s = need(m, 'aslr');
  return [s.s0, s.s1, s.s2, s.s3];
};

/** A system call; the optional arguments (mmap's fd/offset, mremap's new_addr) keep their presence. */
export function syscallToProto(c: VmSyscall): pb.Syscall {
  switch (c.nr) {
    case 'brk':
      return { call: { $case: 'brk', value: { addr: u64Arg(c.addr, 'brk.addr') } } };
    case 'mmap':
      return {
        call: {
          $case: 'mmap',
          value: {
            addr: u64Arg(c.addr, 'mmap.addr'),
            length: u64Arg(c.length, 'mmap.length'),
            prot: u32(c.prot, 'mmap.prot'),
            flags: u32(c.flags, 'mmap.flags'),
            fd: 'fd' in c ? s32(c.fd, 'mmap.fd') : undefined,
            offset: 'offset' in c ? u64Arg(c.offset, 'mmap.offset') : undefined,
          },
        },
      };
    case 'munmap':
      return { call: { $case: 'munmap', value: { addr: u64Arg(c.addr, 'munmap.addr'), length: u64Arg(c.length, 'munmap.length') } } };
    case 'mremap':
      return {
        call: {
          $case: 'mremap',
          value: {
            oldAddr: u64Arg(c.oldAddr, 'mremap.oldAddr'),
            oldSize: u64Arg(c.oldSize, 'mremap.oldSize'),
            newSize: u64Arg(c.newSize, 'mremap.newSize'),
            flags: u32(c.flags, 'mremap.flags'),
            newAddr: 'newAddr' in c ? u64Arg(c.newAddr, 'mremap.newAddr') : undefined,
          },
        },
      };
    case 'mprotect':
      return { call: { $case: 'mprotect', value: { addr: u64Arg(c.addr, 'mprotect.addr'), length: u64Arg(c.length, 'mprotect.length'), prot: u32(c.prot, 'mprotect.prot') } } };
    case 'madvise':
      return { call: { $case: 'madvise', value: { addr: u64Arg(c.addr, 'madvise.addr'), length: u64Arg(c.length, 'madvise.length'), advice: u32(c.advice, 'madvise.advice') } } };
    case 'mlock':
      return { call: { $case: 'mlock', value: { addr: u64Arg(c.addr, 'mlock.addr'), length: u64Arg(c.length, 'mlock.length') } } };
    case 'munlock':
      return { call: { $case: 'munlock', value: { addr: u64Arg(c.addr, 'munlock.addr'), length: u64Arg(c.length, 'munlock.length') } } };
    default:
      return unreachable(c, 'system call');
  }
}

export function syscallFromProto(m: pb.Syscall | undefined): VmSyscall {
  const c = need(need(m, 'call').call, 'call.call');
  switch (c.$case) {
    case 'brk':
      return { nr: 'brk', addr: numArg(c.value.addr, 'brk.addr') };
    case 'mmap': {
      const v = c.value;
      const base = { nr: 'mmap', addr: numArg(v.addr, 'mmap.addr'), length: numArg(v.length, 'mmap.length'), prot: v.prot, flags: v.flags } as const;
      if (v.fd === undefined && v.offset === undefined) return base;
      if (v.fd === undefined || v.offset === undefined) throw new EventCodecError('mmap: fd and offset come together');
      return { ...base, fd: v.fd, offset: numArg(v.offset, 'mmap.offset') };
    }
    case 'munmap':
      return { nr: 'munmap', addr: numArg(c.value.addr, 'munmap.addr'), length: numArg(c.value.length, 'munmap.length') };
    case 'mremap': {
      const v = c.value;
      const base = { nr: 'mremap', oldAddr: numArg(v.oldAddr, 'mremap.oldAddr'), oldSize: numArg(v.oldSize, 'mremap.oldSize'), newSize: numArg(v.newSize, 'mremap.newSize'), flags: v.flags } as const;
      return v.newAddr === undefined ? base : { ...base, newAddr: numArg(v.newAddr, 'mremap.newAddr') };
    }
    case 'mprotect':
      return { nr: 'mprotect', addr: numArg(c.value.addr, 'mprotect.addr'), length: numArg(c.value.length, 'mprotect.length'), prot: c.value.prot };
    case 'madvise':
      return { nr: 'madvise', addr: numArg(c.value.addr, 'madvise.addr'), length: numArg(c.value.length, 'madvise.length'), advice: c.value.advice };
    case 'mlock':
      return { nr: 'mlock', addr: numArg(c.value.addr, 'mlock.addr'), length: numArg(c.value.length, 'mlock.length') };
    case 'munlock':
      return { nr: 'munlock', addr: numArg(c.value.addr, 'munlock.addr'), length: numArg(c.value.length, 'munlock.length') };
    default:
      return unreachable(c, 'system call');
  }
}

export function touchResultToProto(r: TouchResult): pb.TouchResult {
  const none = { signal: pb.Signal.SIGNAL_UNSPECIFIED, blocked: pb.TouchBlocked.TOUCH_BLOCKED_UNSPECIFIED };
  if (r.ok) return { ok: true, ...none, addr: 0n };
  if ('signal' in r) return { ok: false, ...none, signal: signal.to(r.signal), addr: u64(r.addr, 'touch.addr') };
  return { ok: false, ...none, blocked: touchBlocked.to(r.blocked), addr: u64(r.addr, 'touch.addr') };
}

export function touchResultFromProto(m: pb.TouchResult | undefined): TouchResult {
  const r = need(m, 'touch result');
  if (r.ok) return { ok: true };
  const addr = num(r.addr, 'touch.addr');
  if (r.signal !== pb.Signal.SIGNAL_UNSPECIFIED) return { ok: false, signal: oneOfStrings(signal.from(r.signal), ['SIGKILL', 'SIGSEGV'] as const, 'touch.signal'), addr };
  return { ok: false, blocked: touchBlocked.from(r.blocked), addr };
}

// ---------------------------------------------------------------------------------------------
// Events

type Ev<T extends VmEvent['type']> = Extract<VmEvent, { type: T }>;

/** pid, mmId, [start, end): the shape of several range events. */
const range = (e: { readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number }) => ({
  pid: u32(e.pid, 'pid'),
  mmId: u32(e.mmId, 'mmId'),
  start: u64(e.start, 'start'),
  end: u64(e.end, 'end'),
});
const rangeBack = (m: { pid: number; mmId: number; start: bigint; end: bigint }) => ({ pid: m.pid, mmId: m.mmId, start: num(m.start, 'start'), end: num(m.end, 'end') });

function toProto(e: VmEvent): Msg {
  switch (e.type) {
    case 'MachineCreated': {
      const config: MachineConfig = {
        tenant: e.tenant,
        machine: e.machine,
        profile: e.profile,
        ramBytes: e.ramBytes,
        swapBytes: e.swapBytes,
        cpus: e.cpus,
        seed: e.seed,
        sysctl: e.sysctl,
      };
      return {
        event: {
          $case: 'machineCreated',
          value: {
            config: machineConfigToProto(config),
            modelVersion: u32(e.modelVersion, 'modelVersion'),
            totals: totalsToProto(e.totals),
            adminReserveKbytes: s64(e.adminReserveKbytes, 'adminReserveKbytes'),
            userReserveKbytes: s64(e.userReserveKbytes, 'userReserveKbytes'),
          },
        },
      };
    }
    case 'FileCreated':
      return { event: { $case: 'fileCreated', value: { file: fileToProto(e.file) } } };
    case 'TaskSpawned':
      return {
        event: {
          $case: 'taskSpawned',
          value: {
            task: taskToProto(e.task),
            mmId: u32(e.mmId, 'mmId'),
            layout: e.layout === null ? undefined : layoutToProto(e.layout),
            vmas: e.vmas.map(vmaToProto),
            chargedPages: s64(e.chargedPages, 'chargedPages'),
            aslr: prngToProto(e.aslr),
            kernelStackPages: u32(e.kernelStackPages, 'kernelStackPages'),
          },
        },
      };
    case 'TaskForked':
      return {
        event: {
          $case: 'taskForked',
          value: {
            parent: u32(e.parent, 'parent'),
            task: taskToProto(e.task),
            shareVm: e.shareVm,
            chargedPages: s64(e.chargedPages, 'chargedPages'),
            tableKeys: u64s(e.tableKeys, 'tableKeys'),
            tablePfns: u64s(e.tablePfns, 'tablePfns'),
            kernelStackPages: u32(e.kernelStackPages, 'kernelStackPages'),
          },
        },
      };
    case 'ThreadCloned':
      return { event: { $case: 'threadCloned', value: { task: taskToProto(e.task), kernelStackPages: u32(e.kernelStackPages, 'kernelStackPages') } } };
    case 'TaskExited':
      return { event: { $case: 'taskExited', value: { pid: u32(e.pid, 'pid'), code: s32(e.code, 'code'), signal: u32(e.signal, 'signal'), oomVictim: e.oomVictim } } };
    case 'KillPending':
      return { event: { $case: 'killPending', value: { pid: u32(e.pid, 'pid'), oomVictim: e.oomVictim } } };
    case 'TaskReaped':
      return { event: { $case: 'taskReaped', value: { pid: u32(e.pid, 'pid') } } };
    case 'PageTablesAllocated':
      return { event: { $case: 'pageTablesAllocated', value: { mmId: u32(e.mmId, 'mmId'), keys: u64s(e.keys, 'keys'), pfns: u64s(e.pfns, 'pfns') } } };
    case 'PagesFaulted':
      return {
        event: {
          $case: 'pagesFaulted',
          value: {
            pid: u32(e.pid, 'pid'),
            mmId: u32(e.mmId, 'mmId'),
            how: faultHow.to(e.how),
            write: e.write,
            vpns: u64s(e.vpns, 'vpns'),
            pfns: u64s(e.pfns, 'pfns'),
            majorFaults: u64(e.majorFaults, 'majorFaults'),
          },
        },
      };
    case 'PagesEvicted':
      return { event: { $case: 'pagesEvicted', value: { runs: e.runs.map(evictedRunToProto) } } };
    case 'BrkMoved':
      return {
        event: {
          $case: 'brkMoved',
          value: {
            pid: u32(e.pid, 'pid'),
            mmId: u32(e.mmId, 'mmId'),
            oldBrk: u64(e.oldBrk, 'oldBrk'),
            newBrk: u64(e.newBrk, 'newBrk'),
            chargedPages: s64(e.chargedPages, 'chargedPages'),
          },
        },
      };
    case 'VmaMapped':
      return {
        event: {
          $case: 'vmaMapped',
          value: {
            pid: u32(e.pid, 'pid'),
            mmId: u32(e.mmId, 'mmId'),
            vma: vmaToProto(e.vma),
            chargedPages: s64(e.chargedPages, 'chargedPages'),
            shmem: e.shmem === null ? undefined : fileToProto(e.shmem),
          },
        },
      };
    case 'VmaUnmapped':
      return { event: { $case: 'vmaUnmapped', value: range(e) } };
    case 'VmaProtected':
      return { event: { $case: 'vmaProtected', value: { ...range(e), prot: u32(e.prot, 'prot'), chargedPages: s64(e.chargedPages, 'chargedPages') } } };
    case 'VmaRemapped':
      return {
        event: {
          $case: 'vmaRemapped',
          value: {
            pid: u32(e.pid, 'pid'),
            mmId: u32(e.mmId, 'mmId'),
            oldStart: u64(e.oldStart, 'oldStart'),
            oldEnd: u64(e.oldEnd, 'oldEnd'),
            newStart: u64(e.newStart, 'newStart'),
            newEnd: u64(e.newEnd, 'newEnd'),
            chargedPages: s64(e.chargedPages, 'chargedPages'),
          },
        },
      };
    case 'VmaLocked':
      return { event: { $case: 'vmaLocked', value: { ...range(e), locked: e.locked } } };
    case 'PagesZapped':
      return { event: { $case: 'pagesZapped', value: range(e) } };
    case 'PagesLazyFreed':
      return { event: { $case: 'pagesLazyFreed', value: range(e) } };
    case 'StackExpanded':
      return {
        event: {
          $case: 'stackExpanded',
          value: { pid: u32(e.pid, 'pid'), mmId: u32(e.mmId, 'mmId'), newStart: u64(e.newStart, 'newStart'), chargedPages: s64(e.chargedPages, 'chargedPages') },
        },
      };
    case 'SyscallReturned':
      return { event: { $case: 'syscallReturned', value: { pid: u32(e.pid, 'pid'), call: syscallToProto(e.call), result: s64(e.result, 'result') } } };
    case 'TouchCompleted':
      return { event: { $case: 'touchCompleted', value: { pid: u32(e.pid, 'pid'), result: touchResultToProto(e.result) } } };
    case 'OomKillApplied':
      return { event: { $case: 'oomKillApplied', value: { trigger: triggerToProto(e.trigger), verdict: verdictToProto(e.verdict), killed: u32s(e.killed, 'killed') } } };
    case 'OomReaped':
      return { event: { $case: 'oomReaped', value: { pid: u32(e.pid, 'pid'), mmId: u32(e.mmId, 'mmId') } } };
    case 'OomSkipSet':
      return { event: { $case: 'oomSkipSet', value: { mmId: u32(e.mmId, 'mmId') } } };
    case 'MachinePanicked':
      return { event: { $case: 'machinePanicked', value: { reason: e.reason } } };
    case 'ClockAdvanced':
      return { event: { $case: 'clockAdvanced', value: { nowNs: u64(e.nowNs, 'nowNs') } } };
    case 'SysctlSet':
      return { event: { $case: 'sysctlSet', value: { name: e.name, value: s64(e.value, 'sysctl value') } } };
    case 'CgroupCreated':
      return { event: { $case: 'cgroupCreated', value: { cgroup: cgroupToProto(e.cgroup) } } };
    case 'CgroupLimitSet':
      return {
        event: {
          $case: 'cgroupLimitSet',
          value: { id: u32(e.id, 'id'), max: s64(e.max, 'max'), high: s64(e.high, 'high'), swapMax: s64(e.swapMax, 'swapMax'), oomGroup: e.oomGroup },
        },
      };
    case 'CgroupRemoved':
      return { event: { $case: 'cgroupRemoved', value: { id: u32(e.id, 'id') } } };
    case 'CgroupOomCounted':
      return {
        event: {
          $case: 'cgroupOomCounted',
          value: { id: u32(e.id, 'id'), oom: u64(e.oom, 'oom'), oomKill: u64(e.oomKill, 'oomKill'), oomGroupKill: u64(e.oomGroupKill, 'oomGroupKill') },
        },
      };
    case 'TaskMoved':
      return { event: { $case: 'taskMoved', value: { pid: u32(e.pid, 'pid'), memcg: u32(e.memcg, 'memcg') } } };
    case 'OomScoreAdjSet':
      return {
        event: {
          $case: 'oomScoreAdjSet',
          value: {
            pids: u32s(e.pids, 'pids'),
            value: s32(e.value, 'value'),
            legacyWritten: e.legacyWritten === null ? undefined : s32(e.legacyWritten, 'legacyWritten'),
            adjMin: s32(e.adjMin, 'adjMin'),
          },
        },
      };
    case 'NiceSet':
      return { event: { $case: 'niceSet', value: { pid: u32(e.pid, 'pid'), nice: s32(e.nice, 'nice') } } };
    case 'RlimitSet':
      return { event: { $case: 'rlimitSet', value: { pid: u32(e.pid, 'pid'), resource: rlimitResource.to(e.resource), value: u64(e.value, 'value') } } };
    case 'CpuTimeAdded':
      return {
        event: { $case: 'cpuTimeAdded', value: { pid: u32(e.pid, 'pid'), utimeTicks: u64(e.utimeTicks, 'utimeTicks'), stimeTicks: u64(e.stimeTicks, 'stimeTicks') } },
      };
    case 'TaskStuckSet':
      return { event: { $case: 'taskStuckSet', value: { pid: u32(e.pid, 'pid'), stuck: e.stuck } } };
    case 'CommandFailed':
      return { event: { $case: 'commandFailed', value: { command: e.command, pid: s32(e.pid, 'pid'), errno: u32(e.errno, 'errno') } } };
    default:
      return unreachable(e, 'vma event');
  }
}

function fromProto(m: Msg): VmEvent {
  const ev = need(m.event, 'VmaEvent.event');
  switch (ev.$case) {
    case 'machineCreated': {
      const v = ev.value;
      const c = machineConfigFromProto(need(v.config, 'config'));
      return {
        type: 'MachineCreated',
        tenant: c.tenant,
        machine: c.machine,
        profile: c.profile,
        modelVersion: v.modelVersion,
        seed: c.seed,
        cpus: c.cpus,
        ramBytes: c.ramBytes,
        swapBytes: c.swapBytes,
        sysctl: c.sysctl,
        totals: totalsFromProto(v.totals),
        adminReserveKbytes: num(v.adminReserveKbytes, 'adminReserveKbytes'),
        userReserveKbytes: num(v.userReserveKbytes, 'userReserveKbytes'),
      } satisfies Ev<'MachineCreated'>;
    }
    case 'fileCreated':
      return { type: 'FileCreated', file: fileFromProto(ev.value.file) } satisfies Ev<'FileCreated'>;
    case 'taskSpawned': {
      const v = ev.value;
      return {
        type: 'TaskSpawned',
        task: taskFromProto(v.task),
        mmId: v.mmId,
        layout: v.layout === undefined ? null : layoutFromProto(v.layout),
        vmas: v.vmas.map(vmaFromProto),
        chargedPages: num(v.chargedPages, 'chargedPages'),
        aslr: prngFromProto(v.aslr),
        kernelStackPages: v.kernelStackPages,
      } satisfies Ev<'TaskSpawned'>;
    }
    case 'taskForked': {
      const v = ev.value;
      return {
        type: 'TaskForked',
        parent: v.parent,
        task: taskFromProto(v.task),
        shareVm: v.shareVm,
        chargedPages: num(v.chargedPages, 'chargedPages'),
        tableKeys: nums(v.tableKeys, 'tableKeys'),
        tablePfns: nums(v.tablePfns, 'tablePfns'),
        kernelStackPages: v.kernelStackPages,
      } satisfies Ev<'TaskForked'>;
    }
    case 'threadCloned':
      return { type: 'ThreadCloned', task: taskFromProto(ev.value.task), kernelStackPages: ev.value.kernelStackPages } satisfies Ev<'ThreadCloned'>;
    case 'taskExited': {
      const v = ev.value;
      return { type: 'TaskExited', pid: v.pid, code: v.code, signal: v.signal, oomVictim: v.oomVictim } satisfies Ev<'TaskExited'>;
    }
    case 'killPending':
      return { type: 'KillPending', pid: ev.value.pid, oomVictim: ev.value.oomVictim } satisfies Ev<'KillPending'>;
    case 'taskReaped':
      return { type: 'TaskReaped', pid: ev.value.pid } satisfies Ev<'TaskReaped'>;
    case 'pageTablesAllocated': {
      const v = ev.value;
      return { type: 'PageTablesAllocated', mmId: v.mmId, keys: nums(v.keys, 'keys'), pfns: nums(v.pfns, 'pfns') } satisfies Ev<'PageTablesAllocated'>;
    }
    case 'pagesFaulted': {
      const v = ev.value;
      return {
        type: 'PagesFaulted',
        pid: v.pid,
        mmId: v.mmId,
        how: faultHow.from(v.how),
        write: v.write,
        vpns: nums(v.vpns, 'vpns'),
        pfns: nums(v.pfns, 'pfns'),
        majorFaults: num(v.majorFaults, 'majorFaults'),
      } satisfies Ev<'PagesFaulted'>;
    }
    case 'pagesEvicted':
      return { type: 'PagesEvicted', runs: ev.value.runs.map(evictedRunFromProto) } satisfies Ev<'PagesEvicted'>;
    case 'brkMoved': {
      const v = ev.value;
      return {
        type: 'BrkMoved',
        pid: v.pid,
        mmId: v.mmId,
        oldBrk: num(v.oldBrk, 'oldBrk'),
        newBrk: num(v.newBrk, 'newBrk'),
        chargedPages: num(v.chargedPages, 'chargedPages'),
      } satisfies Ev<'BrkMoved'>;
    }
    case 'vmaMapped': {
      const v = ev.value;
      return {
        type: 'VmaMapped',
        pid: v.pid,
        mmId: v.mmId,
        vma: vmaFromProto(v.vma),
        chargedPages: num(v.chargedPages, 'chargedPages'),
        shmem: v.shmem === undefined ? null : fileFromProto(v.shmem),
      } satisfies Ev<'VmaMapped'>;
    }
    case 'vmaUnmapped':
      return { type: 'VmaUnmapped', ...rangeBack(ev.value) } satisfies Ev<'VmaUnmapped'>;
    case 'vmaProtected': {
      const v = ev.value;
      return { type: 'VmaProtected', ...rangeBack(v), prot: v.prot, chargedPages: num(v.chargedPages, 'chargedPages') } satisfies Ev<'VmaProtected'>;
    }
    case 'vmaRemapped': {
      const v = ev.value;
      return {
        type: 'VmaRemapped',
        pid: v.pid,
        mmId: v.mmId,
        oldStart: num(v.oldStart, 'oldStart'),
        oldEnd: num(v.oldEnd, 'oldEnd'),
        newStart: num(v.newStart, 'newStart'),
        newEnd: num(v.newEnd, 'newEnd'),
        chargedPages: num(v.chargedPages, 'chargedPages'),
      } satisfies Ev<'VmaRemapped'>;
    }
    case 'vmaLocked':
      return { type: 'VmaLocked', ...rangeBack(ev.value), locked: ev.value.locked } satisfies Ev<'VmaLocked'>;
    case 'pagesZapped':
      return { type: 'PagesZapped', ...rangeBack(ev.value) } satisfies Ev<'PagesZapped'>;
    case 'pagesLazyFreed':
      return { type: 'PagesLazyFreed', ...rangeBack(ev.value) } satisfies Ev<'PagesLazyFreed'>;
    case 'stackExpanded': {
      const v = ev.value;
      return {
        type: 'StackExpanded',
        pid: v.pid,
        mmId: v.mmId,
        newStart: num(v.newStart, 'newStart'),
        chargedPages: num(v.chargedPages, 'chargedPages'),
      } satisfies Ev<'StackExpanded'>;
    }
    case 'syscallReturned': {
      const v = ev.value;
      return { type: 'SyscallReturned', pid: v.pid, call: syscallFromProto(v.call), result: num(v.result, 'result') } satisfies Ev<'SyscallReturned'>;
    }
    case 'touchCompleted':
      return { type: 'TouchCompleted', pid: ev.value.pid, result: touchResultFromProto(ev.value.result) } satisfies Ev<'TouchCompleted'>;
    case 'oomKillApplied': {
      const v = ev.value;
      return { type: 'OomKillApplied', trigger: triggerFromProto(v.trigger), verdict: verdictFromProto(v.verdict), killed: v.killed } satisfies Ev<'OomKillApplied'>;
    }
    case 'oomReaped':
      return { type: 'OomReaped', pid: ev.value.pid, mmId: ev.value.mmId } satisfies Ev<'OomReaped'>;
    case 'oomSkipSet':
      return { type: 'OomSkipSet', mmId: ev.value.mmId } satisfies Ev<'OomSkipSet'>;
    case 'machinePanicked':
      return { type: 'MachinePanicked', reason: ev.value.reason } satisfies Ev<'MachinePanicked'>;
    case 'clockAdvanced':
      return { type: 'ClockAdvanced', nowNs: num(ev.value.nowNs, 'nowNs') } satisfies Ev<'ClockAdvanced'>;
    case 'sysctlSet':
      return { type: 'SysctlSet', name: oneOfStrings(ev.value.name, VM_SYSCTLS, 'vm sysctl'), value: num(ev.value.value, 'sysctl value') } satisfies Ev<'SysctlSet'>;
    case 'cgroupCreated':
      return { type: 'CgroupCreated', cgroup: cgroupFromProto(ev.value.cgroup) } satisfies Ev<'CgroupCreated'>;
    case 'cgroupLimitSet': {
      const v = ev.value;
      return {
        type: 'CgroupLimitSet',
        id: v.id,
        max: num(v.max, 'max'),
        high: num(v.high, 'high'),
        swapMax: num(v.swapMax, 'swapMax'),
        oomGroup: v.oomGroup,
      } satisfies Ev<'CgroupLimitSet'>;
    }
    case 'cgroupRemoved':
      return { type: 'CgroupRemoved', id: ev.value.id } satisfies Ev<'CgroupRemoved'>;
    case 'cgroupOomCounted': {
      const v = ev.value;
      return {
        type: 'CgroupOomCounted',
        id: v.id,
        oom: num(v.oom, 'oom'),
        oomKill: num(v.oomKill, 'oomKill'),
        oomGroupKill: num(v.oomGroupKill, 'oomGroupKill'),
      } satisfies Ev<'CgroupOomCounted'>;
    }
    case 'taskMoved':
      return { type: 'TaskMoved', pid: ev.value.pid, memcg: ev.value.memcg } satisfies Ev<'TaskMoved'>;
    case 'oomScoreAdjSet': {
      const v = ev.value;
      return { type: 'OomScoreAdjSet', pids: v.pids, value: v.value, legacyWritten: v.legacyWritten ?? null, adjMin: v.adjMin } satisfies Ev<'OomScoreAdjSet'>;
    }
    case 'niceSet':
      return { type: 'NiceSet', pid: ev.value.pid, nice: ev.value.nice } satisfies Ev<'NiceSet'>;
    case 'rlimitSet': {
      const v = ev.value;
      return { type: 'RlimitSet', pid: v.pid, resource: rlimitResource.from(v.resource), value: num(v.value, 'value') } satisfies Ev<'RlimitSet'>;
    }
    case 'cpuTimeAdded': {
      const v = ev.value;
      return { type: 'CpuTimeAdded', pid: v.pid, utimeTicks: num(v.utimeTicks, 'utimeTicks'), stimeTicks: num(v.stimeTicks, 'stimeTicks') } satisfies Ev<'CpuTimeAdded'>;
    }
    case 'taskStuckSet':
      return { type: 'TaskStuckSet', pid: ev.value.pid, stuck: ev.value.stuck } satisfies Ev<'TaskStuckSet'>;
    case 'commandFailed': {
      const v = ev.value;
      // The command's type as the log wrote it; vm has no runtime list of its command types to check it against.
      return { type: 'CommandFailed', command: v.command as VmCommandType, pid: v.pid, errno: v.errno } satisfies Ev<'CommandFailed'>;
    }
    default:
      return unreachable(ev, 'vma event message');
  }
}

export const vmaCodec = defineEventCodec<'vma', VmEvent>({
  service: 'vma',
  toProto,
  fromProto,
  eventType: (e) => e.type,
});
