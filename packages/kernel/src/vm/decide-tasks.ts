// Process lifecycle commands: Spawn (fork + execve of a small program), Fork (copy-on-write),
// CloneThread, Exit, Kill, Wait, and the per-process settings (/proc/<pid>/oom_score_adj, nice,
// rlimits, CPU time, a task stuck in D state, the oom_reaper's pass).
import { invalid, notFound, precondition, quota } from '../common/index.js';
import { EINVAL, ENOMEM } from '../contracts/heap-sys.js';
import { ALL_CAPS, FIRST_USER_PID, NO_CAPS, PID_MAX, RESERVED_PIDS } from './boot.js';
import { chargeOk } from './charge.js';
import { PAGE_SIZE, ROOT_DEV, RLIM_INFINITY, SIGKILL, THREAD_PAGES, VM_ACCOUNT, VM_DONTCOPY } from './constants.js';
import { ask, type Ctx, type Step } from './ctx.js';
import { faultIn } from './fault.js';
import { allocKernelStacks, allocPageTables, freeKernelStacks, freePageTables } from './frames-port.js';
import { execLayout, PROGRAM_SIZE } from './layout.js';
import { missingTables } from './mm-ops.js';
import { OOM_ADJUST_MAX, OOM_ADJUST_MIN, OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN, oomScoreAdjOfLegacy } from './oom-adj.js';
import { mmSharers } from './oom-flow.js';
import { pteIndex } from './page-table.js';
import { settle } from './settle.js';
import { forkCopiedRanges } from './apply.js';
import { exitGroup, threadGroup } from './task-exit.js';
import type { CapName, Caps, Mm, Rlimits, SpawnSpec, Task, TaskRecord, VmCommand } from './types.js';
import { vmStat } from './vma-list.js';
import { cgroupByPath } from './decide-cgroups.js';
import { EACCES } from './syscalls/errno.js';

const LD_SO_FILE = 1;
const LIBC_FILE = 2;

/** The task if it exists; a Rejection otherwise. */
export function mustTask(ctx: Ctx, pid: number): Task {
  if (!Number.isInteger(pid)) throw invalid('vma.INVALID_ARGUMENT', `pid must be an integer, got ${String(pid)}`);
  const t = ctx.w.task(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  return t;
}

/** A live user task with an address space (what system calls and touches need). */
export function mustUserTask(ctx: Ctx, pid: number): { task: Task; mm: Mm } {
  const task = mustTask(ctx, pid);
  if (task.state !== 'running') throw precondition('vma.TASK_EXITED', `task ${pid} has exited (${task.state})`);
  if (task.isKthread || !task.mmId) throw precondition('vma.NO_MM', `task ${pid} is a kernel thread: it has no address space`);
  const mm = ctx.w.mm(task.mmId);
  if (!mm) throw precondition('vma.NO_MM', `task ${pid} has no mm`);
  return { task, mm };
}

/** alloc_pid(): the next free pid, wrapping past pid_max to RESERVED_PIDS. */
export function allocPid(ctx: Ctx): number {
  let pid = Math.max(ctx.w.sc.nextPid, FIRST_USER_PID);
  for (let tries = 0; tries <= PID_MAX; tries++, pid++) {
    if (pid >= PID_MAX) pid = RESERVED_PIDS;
    if (!ctx.w.tasks.has(pid)) return pid;
  }
  throw quota('vma.PID_SPACE_EXHAUSTED', `all ${PID_MAX} pids are in use`);
}

const capsOf = (names: readonly CapName[]): Caps => ({
  sysAdmin: names.includes('CAP_SYS_ADMIN'),
  sysResource: names.includes('CAP_SYS_RESOURCE'),
  sysRawio: names.includes('CAP_SYS_RAWIO'),
  ipcLock: names.includes('CAP_IPC_LOCK'),
});

function checkRlimits(r: Partial<Rlimits> | undefined): void {
  for (const [k, v] of Object.entries(r ?? {})) {
    if (!['as', 'data', 'stack', 'memlock'].includes(k)) throw invalid('vma.INVALID_ARGUMENT', `unknown rlimit ${k}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid('vma.INVALID_ARGUMENT', `rlimit ${k} must be a non-negative integer (bytes)`);
  }
}

function checkRange(field: string, v: number | undefined, lo: number, hi: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < lo || v > hi) throw invalid('vma.INVALID_ARGUMENT', `${field} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
}

/**
 * dup_task_struct() -> alloc_thread_stack_node(): kernel stacks for `count` new tasks, charged to
 * memcg (__GFP_ACCOUNT). Returns the pages each stack has, or 0 when frames could not give them
 * all: what it did give goes straight back, and the caller fails with -ENOMEM before the task
 * exists, as copy_process() does. The kernel's GFP_KERNEL allocation could run the OOM killer
 * first; here, as for fork's page tables, reclaim is all that is tried.
 */
export function* takeKernelStacks(ctx: Ctx, memcg: number, count: number): Step<number> {
  const per = THREAD_PAGES[ctx.w.machine?.profile ?? 'linux-6.18'];
  const g = yield* allocKernelStacks(memcg, per * count);
  if (g.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: g.evicted }), memcg);
  if (!g.failed) return per;
  if (g.pfns.length) yield* freeKernelStacks(memcg, g.pfns.length);
  return 0;
}

/** fork() + execve(): a new process running a small dynamically linked program. Returns its pid or -errno. */
export function* decideSpawn(ctx: Ctx, spec: SpawnSpec, fixedPid?: number, ppidOverride?: number): Step<number> {
  if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.includes('/')) {
    throw invalid('vma.INVALID_ARGUMENT', 'name must be a non-empty program name without "/"');
  }
  const parentPid = spec.parent ?? 1;
  const parent = fixedPid === 1 ? undefined : mustTask(ctx, parentPid);
  if (parent && parent.state !== 'running') throw precondition('vma.TASK_EXITED', `parent ${parentPid} has exited`);
  checkRange('nice', spec.nice, -20, 19);
  checkRange('oomScoreAdj', spec.oomScoreAdj, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX);
  checkRange('uid', spec.uid, 0, 2 ** 32 - 2);
  checkRlimits(spec.rlimits);
  if (spec.brkStart !== undefined && (!Number.isInteger(spec.brkStart) || spec.brkStart % PAGE_SIZE !== 0 || spec.brkStart <= 0 || spec.brkStart >= 2 ** 47)) {
    throw invalid('vma.INVALID_ARGUMENT', 'brkStart must be a page-aligned user address');
  }
  const memcg = spec.cgroup !== undefined ? cgroupByPath(ctx, spec.cgroup).id : (parent?.memcg ?? 0);
  const uid = spec.uid ?? parent?.uid ?? 0;
  const rlimits: Rlimits = { ...(parent?.rlimits ?? { as: RLIM_INFINITY, data: RLIM_INFINITY, stack: 8 << 20, memlock: 8 << 20 }), ...spec.rlimits };
  const pid = fixedPid ?? allocPid(ctx);
  const env = [...(spec.env ?? [])];
  const argv = [...(spec.argv ?? [spec.name])];
  const path = `/usr/bin/${spec.name}`;
  let program = ctx.w.fileByPath(path);
  if (!program) {
    program = { id: ctx.w.sc.nextFileId, path, inode: ctx.w.sc.nextInode, dev: ROOT_DEV, sizeBytes: PROGRAM_SIZE, shmem: false, chargedPages: 0 };
    ctx.emit({ type: 'FileCreated', file: program });
  }
  const ex = execLayout({
    aslr: ctx.w.sc.aslr,
    stackRlimit: rlimits.stack,
    programFile: program.id,
    ldsoFile: LD_SO_FILE,
    libcFile: LIBC_FILE,
    argv,
    env,
    execfn: path,
    brkStart: spec.brkStart,
  });
  const stat = vmStat(ex.vmas);
  const caps = spec.caps ? capsOf(spec.caps) : uid === 0 ? ALL_CAPS : NO_CAPS;
  const mmId = ctx.w.sc.nextMmId;
  const record: TaskRecord = {
    pid,
    tgid: pid,
    ppid: ppidOverride ?? parent?.tgid ?? 0,
    name: spec.name.slice(0, 15),
    uid,
    euid: spec.euid ?? uid,
    caps,
    nice: spec.nice ?? parent?.nice ?? 0,
    oomScoreAdj: spec.oomScoreAdj ?? parent?.oomScoreAdj ?? 0,
    oomScoreAdjMin: parent?.oomScoreAdjMin ?? 0,
    oomAdjWritten: null,
    rlimits,
    startTimeNs: ctx.w.sc.clockNs,
    utimeTicks: 0,
    stimeTicks: 0,
    memcg,
    isKthread: false,
    mmId,
    env,
    seq: ctx.w.sc.nextSeq,
  };
  // execve() fails before the new image exists when limits or overcommit refuse its mappings.
  const probe: Task = { ...record, state: 'running', exitCode: 0, exitSignal: 0, oomVictim: false, stuck: false, killPending: false, minflt: 0, majflt: 0, kstackPages: 0, kstackMemcg: 0 };
  if (stat.totalVm > Math.floor(rlimits.as / PAGE_SIZE) || !(yield* chargeOk(ctx, probe, null, stat.accounted))) {
    ctx.emit({ type: 'CommandFailed', command: 'Spawn', pid: parentPid, errno: ENOMEM });
    return -ENOMEM;
  }
  // fork()'s kernel stack, charged to the memcg the new process starts in. The kernel takes it
  // before execve() checks anything; asking after those checks only spares a failed exec the
  // allocation and its undoing (the outcome is the same).
  const kstack = yield* takeKernelStacks(ctx, memcg, 1);
  if (!kstack) {
    ctx.emit({ type: 'CommandFailed', command: 'Spawn', pid: parentPid, errno: ENOMEM });
    return -ENOMEM;
  }
  ctx.emit({ type: 'TaskSpawned', task: record, mmId, layout: ex.layout, vmas: ex.vmas, chargedPages: stat.accounted, aslr: ex.aslr, kernelStackPages: kstack });
  if (spec.prefault !== false) {
    const spans = ex.prefault.map((p) => ({ start: p.start / PAGE_SIZE, end: p.start / PAGE_SIZE + p.pages, write: p.write }));
    yield* faultIn(ctx, pid, spans, { context: 'exec', force: true });
  }
  return pid;
}

/** fork(): a copy-on-write child (shareVm: CLONE_VM, the same mm). Returns the child's pid or -errno. */
export function* decideFork(ctx: Ctx, pid: number, shareVm: boolean): Step<number> {
  const { task, mm } = mustUserTaskOf(ctx, pid);
  const child = allocPid(ctx);
  const record: TaskRecord = {
    ...copyable(task),
    pid: child,
    tgid: child,
    ppid: task.tgid,
    startTimeNs: ctx.w.sc.clockNs,
    utimeTicks: 0,
    stimeTicks: 0,
    mmId: shareVm ? mm.id : ctx.w.sc.nextMmId,
    seq: ctx.w.sc.nextSeq,
  };
  const fail = function* (stackPages: number): Step<number> {
    if (stackPages) yield* freeKernelStacks(task.memcg, stackPages);
    ctx.emit({ type: 'CommandFailed', command: 'Fork', pid, errno: ENOMEM });
    return -ENOMEM;
  };
  // copy_process(): dup_task_struct() takes the child's kernel stack first; whatever fails after
  // it gives the stack back (no half-made child is left).
  const kstack = yield* takeKernelStacks(ctx, task.memcg, 1);
  if (!kstack) return yield* fail(0);
  if (shareVm) {
    ctx.emit({ type: 'TaskForked', parent: task.pid, task: record, shareVm: true, chargedPages: 0, tableKeys: [], tablePfns: [], kernelStackPages: kstack });
    return child;
  }
  // dup_mmap(): every VM_ACCOUNT VMA is charged again for the child.
  const charge = mm.vmas.filter((v) => v.flags & VM_ACCOUNT && !(v.flags & VM_DONTCOPY)).reduce((n, v) => n + (v.end - v.start) / PAGE_SIZE, 0);
  if (!(yield* chargeOk(ctx, task, mm, charge))) return yield* fail(kstack);
  // copy_page_range(): the child gets page tables wherever the parent has anonymous PTEs to copy.
  const pt = ctx.w.pt(mm.id);
  const vpns: number[] = [];
  if (pt) {
    const idxs = pt.tableIndices();
    for (const v of forkCopiedRanges(mm)) {
      const lo = pteIndex(v.start / PAGE_SIZE);
      const hi = pteIndex(v.end / PAGE_SIZE - 1);
      for (const idx of idxs) if (idx >= lo && idx <= hi) vpns.push(Math.max(idx * 512, v.start / PAGE_SIZE));
    }
  }
  const keys = missingTables(undefined, vpns);
  let pfns: number[] = [];
  if (keys.length) {
    const g = yield* allocPageTables(task.memcg, keys.length);
    if (g.evicted.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: g.evicted }), task.memcg);
    if (g.failed) {
      // The page-table pages frames did give go back with the stack.
      if (g.pfns.length) yield* freePageTables(task.memcg, g.pfns.length);
      return yield* fail(kstack);
    }
    pfns = keys.map((_, i) => g.pfns[i] ?? 0);
  }
  yield* settle(ctx, ctx.emit({ type: 'TaskForked', parent: task.pid, task: record, shareVm: false, chargedPages: charge, tableKeys: keys, tablePfns: pfns, kernelStackPages: kstack }), task.memcg);
  return child;
}

function mustUserTaskOf(ctx: Ctx, pid: number): { task: Task; mm: Mm } {
  const task = mustTask(ctx, pid);
  if (task.state !== 'running') throw precondition('vma.TASK_EXITED', `task ${pid} has exited`);
  if (task.isKthread || !task.mmId) throw precondition('vma.NO_MM', `task ${pid} is a kernel thread`);
  return { task, mm: ctx.w.mm(task.mmId) as Mm };
}

function copyable(t: Task): TaskRecord {
  return {
    pid: t.pid,
    tgid: t.tgid,
    ppid: t.ppid,
    name: t.name,
    uid: t.uid,
    euid: t.euid,
    caps: t.caps,
    nice: t.nice,
    oomScoreAdj: t.oomScoreAdj,
    oomScoreAdjMin: t.oomScoreAdjMin,
    oomAdjWritten: t.oomAdjWritten,
    rlimits: t.rlimits,
    startTimeNs: t.startTimeNs,
    utimeTicks: t.utimeTicks,
    stimeTicks: t.stimeTicks,
    memcg: t.memcg,
    isKthread: t.isKthread,
    mmId: t.mmId,
    env: t.env,
    seq: t.seq,
  };
}

/** clone(CLONE_VM | CLONE_THREAD ...): a thread of pid's process, with its own kernel stack. Returns its tid or -errno. */
export function* decideCloneThread(ctx: Ctx, pid: number): Step<number> {
  const { task, mm } = mustUserTaskOf(ctx, pid);
  const tid = allocPid(ctx);
  const kstack = yield* takeKernelStacks(ctx, task.memcg, 1);
  if (!kstack) {
    ctx.emit({ type: 'CommandFailed', command: 'CloneThread', pid, errno: ENOMEM });
    return -ENOMEM;
  }
  const record: TaskRecord = { ...copyable(task), pid: tid, tgid: task.tgid, startTimeNs: ctx.w.sc.clockNs, utimeTicks: 0, stimeTicks: 0, mmId: mm.id, seq: ctx.w.sc.nextSeq };
  ctx.emit({ type: 'ThreadCloned', task: record, kernelStackPages: kstack });
  return tid;
}

function mustKillable(ctx: Ctx, pid: number): Task {
  const t = mustTask(ctx, pid);
  if (t.pid === 1) throw precondition('vma.UNKILLABLE', 'init (pid 1) cannot be killed or exit');
  if (t.isKthread) throw precondition('vma.UNKILLABLE', `${t.name} is a kernel thread`);
  if (t.state !== 'running') throw precondition('vma.TASK_EXITED', `task ${pid} has exited`);
  return t;
}

/** exit_group(code), or death by a signal the process raised itself (abort(): SIGABRT). */
export function* decideExit(ctx: Ctx, pid: number, code: number, signal = 0): Step<void> {
  mustKillable(ctx, pid);
  checkRange('code', code, 0, 255);
  checkRange('signal', signal, 0, 64);
  yield* exitGroup(ctx, pid, signal ? 0 : code, signal, false);
}

/** SIGKILL: the thread group, and every process sharing its mm. */
export function* decideKill(ctx: Ctx, pid: number): Step<void> {
  const t = mustKillable(ctx, pid);
  for (const p of [t.tgid, ...mmSharers(ctx.w, t.tgid)]) yield* exitGroup(ctx, p, 0, SIGKILL, false);
}

export function decideWait(ctx: Ctx, pid: number): void {
  const t = mustTask(ctx, pid);
  if (t.state !== 'zombie') throw precondition('vma.NOT_A_ZOMBIE', `task ${pid} is ${t.state}, not a zombie`);
  ctx.emit({ type: 'TaskReaped', pid });
}

/**
 * fs/proc/base.c __set_oom_adj(): a write to oom_score_adj (or, legacy, oom_adj). Lowering it
 * below oom_score_adj_min (legacy: below the current value) needs CAP_SYS_RESOURCE in the
 * writer. The value applies to the thread group and to processes sharing its mm. 0 or -errno.
 */
export function decideSetOomScoreAdj(ctx: Ctx, cmd: Extract<VmCommand, { type: 'SetOomScoreAdj' }>): number {
  const t = mustTask(ctx, cmd.pid);
  const writer = mustTask(ctx, cmd.writer ?? cmd.pid);
  if (!Number.isInteger(cmd.value)) throw invalid('vma.INVALID_ARGUMENT', 'value must be an integer');
  const fail = (errno: number): number => {
    ctx.emit({ type: 'CommandFailed', command: 'SetOomScoreAdj', pid: cmd.pid, errno });
    return -errno;
  };
  let adj: number;
  if (cmd.legacy) {
    if (cmd.value < OOM_ADJUST_MIN || cmd.value > OOM_ADJUST_MAX) return fail(EINVAL);
    adj = oomScoreAdjOfLegacy(cmd.value);
    if (adj < t.oomScoreAdj && !writer.caps.sysResource) return fail(EACCES);
  } else {
    if (cmd.value < OOM_SCORE_ADJ_MIN || cmd.value > OOM_SCORE_ADJ_MAX) return fail(EINVAL);
    adj = cmd.value;
    if (adj < t.oomScoreAdjMin && !writer.caps.sysResource) return fail(EACCES);
  }
  const adjMin = !cmd.legacy && writer.caps.sysResource ? adj : t.oomScoreAdjMin;
  const pids: number[] = [];
  for (const p of [t.tgid, ...mmSharers(ctx.w, t.tgid)]) for (const x of threadGroup(ctx, p)) pids.push(x.pid);
  if (pids.length === 0) pids.push(t.pid);
  ctx.emit({ type: 'OomScoreAdjSet', pids, value: adj, legacyWritten: cmd.legacy ? cmd.value : null, adjMin });
  return 0;
}

export function decideSetNice(ctx: Ctx, pid: number, nice: number): void {
  mustTask(ctx, pid);
  checkRange('nice', nice, -20, 19);
  ctx.emit({ type: 'NiceSet', pid, nice });
}

export function decideSetRlimit(ctx: Ctx, pid: number, resource: keyof Rlimits, value: number): void {
  mustTask(ctx, pid);
  checkRlimits({ [resource]: value });
  for (const t of threadGroup(ctx, pid)) ctx.emit({ type: 'RlimitSet', pid: t.pid, resource, value });
}

export function decideAddCpuTime(ctx: Ctx, pid: number, utime: number, stime: number): void {
  mustTask(ctx, pid);
  checkRange('utimeTicks', utime, 0, Number.MAX_SAFE_INTEGER);
  checkRange('stimeTicks', stime, 0, Number.MAX_SAFE_INTEGER);
  ctx.emit({ type: 'CpuTimeAdded', pid, utimeTicks: utime, stimeTicks: stime });
}

/** A task enters or leaves uninterruptible sleep; leaving it, a pending SIGKILL takes effect. */
export function* decideSetTaskStuck(ctx: Ctx, pid: number, stuck: boolean): Step<void> {
  const t = mustTask(ctx, pid);
  if (t.isKthread) throw precondition('vma.UNKILLABLE', 'kernel threads are not modelled as stuck');
  ctx.emit({ type: 'TaskStuckSet', pid, stuck });
  if (stuck) return;
  const group = threadGroup(ctx, pid);
  if (group.some((x) => x.stuck) || !group.some((x) => x.killPending)) return;
  const victim = group.some((x) => x.oomVictim);
  const out = yield* exitGroup(ctx, pid, 0, SIGKILL, victim);
  if (out === 'exited' && victim) yield* ask('oom', { type: 'VictimExited', pid: t.tgid });
}

/** The oom_reaper's pass over a victim: its anonymous and private memory unmapped, MMF_OOM_SKIP set. */
export function* decideReapOomVictim(ctx: Ctx, pid: number): Step<void> {
  const t = mustTask(ctx, pid);
  if (!t.mmId) throw precondition('vma.NO_MM', `task ${pid} has no mm to reap`);
  yield* settle(ctx, ctx.emit({ type: 'OomReaped', pid, mmId: t.mmId }), t.memcg);
  yield* ask('oom', { type: 'VictimReaped', pid: t.tgid });
}
