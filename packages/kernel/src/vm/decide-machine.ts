// Machine-wide commands: CreateMachine (boot: init and the kernel threads), sysctls, files, and
// simulated time (AdvanceTime: the clock, then frames' kswapd, then oom's reaper and userspace
// killers, whose actions vm carries out).
import { invalid, MODEL_VERSION, precondition } from '../common/index.js';
import type { FramesTotals } from '../contracts/frames.js';
import type { OomTickActions, OomTickCgroup, OomTickRequest } from '../contracts/oom.js';
import type { MachineConfig, VmSysctls } from '../machine/config.js';
import { ALL_CAPS, DEFAULT_RLIMITS, kernelThreadNames, kthreadNice } from './boot.js';
import { ROOT_DEV, SIGKILL } from './constants.js';
import { ask, type Ctx, type Step } from './ctx.js';
import { decideSpawn, takeKernelStacks } from './decide-tasks.js';
import { framesTick, getTotals } from './frames-port.js';
import { LD_SO, LIBC } from './layout.js';
import { mmSharers, oomTaskOf, processes, processIndex } from './oom-flow.js';
import { initAdminReserveKbytes, initUserReserveKbytes } from './overcommit.js';
import { settle } from './settle.js';
import { exitGroup } from './task-exit.js';
import type { VmTotals } from './types.js';

const SIGTERM = 15;

export function* decideCreateMachine(ctx: Ctx, config: MachineConfig, given?: FramesTotals): Step<void> {
  if (ctx.w.machine) throw precondition('vma.MACHINE_EXISTS', `machine ${config.machine} exists`);
  if (!Number.isInteger(config.ramBytes) || config.ramBytes <= 0 || config.ramBytes % 4096 !== 0) throw invalid('vma.INVALID_ARGUMENT', 'ramBytes must be a positive multiple of 4096');
  if (!Number.isInteger(config.swapBytes) || config.swapBytes < 0) throw invalid('vma.INVALID_ARGUMENT', 'swapBytes must be >= 0');
  const t = given ?? (yield* getTotals());
  const totals: VmTotals = { totalRamPages: t.totalRamPages, totalSwapPages: t.totalSwapPages, hugetlbPages: t.hugetlbPages, freePagesAtBoot: t.freePages };
  const s = config.sysctl;
  ctx.emit({
    type: 'MachineCreated',
    tenant: config.tenant,
    machine: config.machine,
    profile: config.profile,
    modelVersion: MODEL_VERSION,
    seed: config.seed,
    cpus: config.cpus,
    ramBytes: config.ramBytes,
    swapBytes: config.swapBytes,
    sysctl: s,
    totals,
    adminReserveKbytes: s.admin_reserve_kbytes >= 0 ? s.admin_reserve_kbytes : initAdminReserveKbytes(t.freePages),
    userReserveKbytes: s.user_reserve_kbytes >= 0 ? s.user_reserve_kbytes : initUserReserveKbytes(t.freePages),
  });
  for (const [id, img] of [
    [1, LD_SO],
    [2, LIBC],
  ] as const) {
    ctx.emit({ type: 'FileCreated', file: { id, path: img.path, inode: img.inode, dev: ROOT_DEV, sizeBytes: img.sizeBytes, shmem: false, chargedPages: 0 } });
  }
  ctx.emit({ type: 'CgroupCreated', cgroup: { id: 0, path: '/', parent: -1, max: -1, high: -1, swapMax: -1, oomGroup: false, oom: 0, oomKill: 0, oomGroupKill: 0 } });
  // init first (pid 1), then kthreadd (pid 2) and the kernel threads it starts.
  yield* decideSpawn(ctx, { name: 'init', uid: 0, rlimits: DEFAULT_RLIMITS }, 1, 0);
  const names = ['kthreadd', ...kernelThreadNames(config.cpus)];
  // Kernel threads are tasks made by copy_process() too: each has its own kernel stack, in the
  // root memcg. One request for all of them. (The idle tasks are not in the task list and are
  // not modelled: swapper/0 runs on the static init_stack, the others' stacks are left out.)
  const kstack = yield* takeKernelStacks(ctx, 0, names.length);
  if (!kstack) throw precondition('vma.OUT_OF_MEMORY', `${config.ramBytes} bytes of RAM cannot hold the kernel threads' stacks`);
  names.forEach((name, i) => {
    const pid = 2 + i;
    ctx.emit({
      type: 'TaskSpawned',
      task: {
        pid,
        tgid: pid,
        ppid: pid === 2 ? 0 : 2,
        name,
        uid: 0,
        euid: 0,
        caps: ALL_CAPS,
        nice: kthreadNice(name),
        oomScoreAdj: 0,
        oomScoreAdjMin: 0,
        oomAdjWritten: null,
        rlimits: DEFAULT_RLIMITS,
        startTimeNs: 0,
        utimeTicks: 0,
        stimeTicks: 0,
        memcg: 0,
        isKthread: true,
        mmId: 0,
        env: [],
        seq: ctx.w.sc.nextSeq,
      },
      mmId: 0,
      layout: null,
      vmas: [],
      chargedPages: 0,
      aslr: ctx.w.sc.aslr,
      kernelStackPages: kstack,
    });
  });
}

const VM_OWNED: readonly (keyof VmSysctls)[] = ['overcommit_memory', 'overcommit_ratio', 'overcommit_kbytes', 'admin_reserve_kbytes', 'user_reserve_kbytes'];
const FRAMES_OWNED: readonly (keyof VmSysctls)[] = ['min_free_kbytes', 'watermark_scale_factor', 'swappiness'];
const OOM_OWNED: readonly (keyof VmSysctls)[] = ['panic_on_oom', 'oom_kill_allocating_task'];
/** Sysctls 2.6.18 did not have (overcommit_kbytes came in 3.14, the reserves in 3.10). */
const NOT_IN_2618: readonly (keyof VmSysctls)[] = ['overcommit_kbytes', 'admin_reserve_kbytes', 'user_reserve_kbytes', 'watermark_scale_factor'];

/** The range proc_dointvec_minmax accepts for each (a value outside it is -EINVAL: a bad call). */
const RANGES: Readonly<Record<keyof VmSysctls, [number, number]>> = {
  overcommit_memory: [0, 2],
  overcommit_ratio: [0, 2 ** 31 - 1],
  overcommit_kbytes: [0, Number.MAX_SAFE_INTEGER],
  admin_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
  user_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
  min_free_kbytes: [0, 2 ** 31 - 1],
  watermark_scale_factor: [1, 3000],
  swappiness: [0, 200],
  panic_on_oom: [0, 2],
  oom_kill_allocating_task: [0, 1],
};

/**
 * A write to /proc/sys/vm/<name>. vm keeps every one (it is the /proc/sys/vm view) and owns the
 * overcommit ones; the reclaim ones are forwarded to frames and the OOM ones to oom.
 */
export function* decideSetSysctl(ctx: Ctx, name: keyof VmSysctls, value: number): Step<void> {
  const range = RANGES[name];
  if (!range) throw invalid('vma.NO_SUCH_SYSCTL', `no sysctl vm.${String(name)}`);
  const m = ctx.w.machine;
  if (m?.profile === 'linux-2.6.18' && NOT_IN_2618.includes(name)) throw invalid('vma.NO_SUCH_SYSCTL', `vm.${name} does not exist in linux-2.6.18`);
  const max = m?.profile === 'linux-2.6.18' && name === 'swappiness' ? 100 : range[1];
  if (!Number.isInteger(value) || value < range[0] || value > max) throw invalid('vma.INVALID_ARGUMENT', `vm.${name} must be an integer in [${range[0]}, ${max}]`);
  ctx.emit({ type: 'SysctlSet', name, value });
  if (FRAMES_OWNED.includes(name)) yield* ask('frames', { type: 'SetSysctl', name, value });
  else if (OOM_OWNED.includes(name)) yield* ask('oom', { type: 'SetSysctl', name, value });
  else if (!VM_OWNED.includes(name)) throw new Error(`sysctl ${name} has no owner`);
}

export function decideCreateFile(ctx: Ctx, path: string, sizeBytes: number): number {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096) throw invalid('vma.INVALID_ARGUMENT', 'path must be absolute');
  if (!Number.isInteger(sizeBytes) || sizeBytes < 0) throw invalid('vma.INVALID_ARGUMENT', 'sizeBytes must be >= 0');
  if (ctx.w.fileByPath(path)) throw precondition('vma.FILE_EXISTS', `${path} exists`);
  const id = ctx.w.sc.nextFileId;
  ctx.emit({ type: 'FileCreated', file: { id, path, inode: ctx.w.sc.nextInode, dev: ROOT_DEV, sizeBytes, shmem: false, chargedPages: 0 } });
  return id;
}

/** Simulated time passes: the clock, kswapd (frames Tick), then the oom_reaper and userspace killers (oom Tick). */
export function* decideAdvanceTime(ctx: Ctx, ns: number): Step<void> {
  if (!Number.isInteger(ns) || ns <= 0) throw invalid('vma.INVALID_ARGUMENT', 'ns must be a positive integer');
  const now = ctx.w.sc.clockNs + ns;
  ctx.emit({ type: 'ClockAdvanced', nowNs: now });
  const ev = yield* framesTick(now);
  if (ev.length) yield* settle(ctx, ctx.emit({ type: 'PagesEvicted', runs: ev }), 0);
  const actions = (yield* ask<OomTickActions | null>('oom', oomTick(ctx, now))) ?? null;
  if (!actions || typeof actions !== 'object' || !('signals' in actions)) return;
  for (const r of actions.reap ?? []) {
    const t = ctx.w.task(r.pid);
    const mm = ctx.w.mm(r.mmId);
    if (mm) yield* settle(ctx, ctx.emit({ type: 'OomReaped', pid: r.pid, mmId: r.mmId }), t?.memcg ?? 0);
  }
  for (const mmId of actions.oomSkip ?? []) if (ctx.w.mm(mmId) && !ctx.w.mm(mmId)?.oomSkip) ctx.emit({ type: 'OomSkipSet', mmId });
  for (const s of actions.signals ?? []) {
    const t = ctx.w.task(s.pid);
    if (!t || t.state !== 'running' || t.pid === 1 || t.isKthread) continue;
    // SIGTERM's default action ends the process too (the model has no handlers).
    const signal = s.signal === 'SIGKILL' ? SIGKILL : SIGTERM;
    for (const p of [t.tgid, ...(signal === SIGKILL ? mmSharers(ctx.w, t.tgid) : [])]) yield* exitGroup(ctx, p, 0, signal, false);
  }
}

/**
 * The oom Tick request. MemAvailable and the cgroups' figures are vm's estimates from the RSS it
 * knows (MemAvailable = RAM minus anonymous, shmem and page-table pages of every mm; a cgroup's
 * memory.current = the RSS of its processes), until frames answers such queries.
 */
function oomTick(ctx: Ctx, now: number): OomTickRequest {
  const w = ctx.w;
  const m = w.machine;
  const ram = m?.totals.totalRamPages ?? 0;
  const swap = m?.totals.totalSwapPages ?? 0;
  let used = 0;
  let swapped = 0;
  const perCg = new Map<number, [number, number]>();
  const procs = processes(w);
  const index = processIndex(w, procs);
  for (const t of procs) {
    const mm = t.mmId ? w.mm(t.mmId) : undefined;
    if (!mm) continue;
    used += mm.rssAnon + mm.rssShmem + mm.ptePages + mm.pmdPages + mm.pudPages;
    swapped += mm.swapEnts;
    const c = perCg.get(t.memcg) ?? [0, 0];
    perCg.set(t.memcg, [c[0] + mm.rssAnon + mm.rssFile + mm.rssShmem, c[1] + mm.swapEnts]);
  }
  const cgroups: OomTickCgroup[] = w.cgroups
    .values()
    .sort((a, b) => a.id - b.id)
    .map((c) => ({ id: c.id, parent: c.parent, path: c.path, memoryCurrentPages: perCg.get(c.id)?.[0] ?? 0, swapCurrentPages: perCg.get(c.id)?.[1] ?? 0, memoryFullStallNs: 0, pgscan: 0 }));
  return {
    type: 'Tick',
    nowNs: now,
    meminfo: { memTotalKb: ram * 4, memAvailableKb: Math.max(0, ram - used) * 4, swapTotalKb: swap * 4, swapFreeKb: Math.max(0, swap - swapped) * 4 },
    tasks: procs.map((t) => oomTaskOf(w, t, index)),
    cgroups,
  };
}
