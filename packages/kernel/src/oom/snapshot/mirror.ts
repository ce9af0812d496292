// A real machine's snapshot as the model's inputs: OomTasks for scoring and what-if, and the
// data a simulated machine needs to mirror it (someone else turns it into CreateMachine and
// Spawn commands).
import { NS_PER_SEC, type KernelProfile } from '../../common/index.js';
import type { OomTask } from '../../contracts/oom.js';
import { DEFAULT_SYSCTLS, type VmSysctls } from '../../machine/config.js';
import { oomAdjFromScoreAdj } from '../legacy-adj.js';
import type { ProcSnapshot, SnapshotProcessRecord } from './parse.js';

/** include/uapi/linux/capability.h */
export const CAP_SYS_RAWIO = 17;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_RESOURCE = 24;

export function hasCap(capEffHex: string | null, cap: number): boolean {
  if (capEffHex === null || !/^[0-9a-fA-F]+$/.test(capEffHex)) return false;
  const low = parseInt(capEffHex.slice(-8), 16); // the capabilities below 32 are in the low word
  return cap < 32 && Math.floor(low / 2 ** cap) % 2 === 1;
}

export interface SnapshotTasks {
  /** Processes in pid order (the kernel's task list is creation order; pids are close to it). */
  readonly tasks: OomTask[];
  /** totalram_pages() + total_swap_pages: MemTotal + SwapTotal in pages. */
  readonly totalPages: number;
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
  readonly nowNs: number;
}

const kbToPages = (kb: number | null, pageKb: number): number => Math.floor((kb ?? 0) / pageKb);

export function snapshotToOomTasks(s: ProcSnapshot): SnapshotTasks {
  const pageKb = s.page_size / 1024;
  const ticksToNs = (ticks: number): number => Math.round((ticks * NS_PER_SEC) / s.clk_tck);
  const procs = [...s.processes].sort((a, b) => a.pid - b.pid);
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const tasks = procs.map((p): OomTask => ({
    pid: p.pid,
    tgid: p.pid,
    ppid: p.ppid,
    name: p.name,
    uid: p.uid,
    euid: p.euid,
    capSysAdmin: hasCap(p.cap_eff, CAP_SYS_ADMIN),
    capSysResource: hasCap(p.cap_eff, CAP_SYS_RESOURCE),
    capSysRawio: hasCap(p.cap_eff, CAP_SYS_RAWIO),
    nice: p.nice,
    oomScoreAdj: p.oom_score_adj,
    oomAdj: oomAdjFromScoreAdj(p.oom_score_adj),
    isKthread: p.kernel_thread,
    inVfork: false,
    exiting: p.state === 'X' || p.state === 'Z',
    oomVictim: false,
    oomOrigin: false,
    utimeTicks: p.utime_ticks,
    stimeTicks: p.stime_ticks,
    startTimeNs: ticksToNs(p.start_time_ticks),
    memcg: 0,
    mm: p.kernel_thread
      ? null
      : {
          mmId: p.pid,
          totalVm: kbToPages(p.VmSize_kB, pageKb),
          rssAnon: kbToPages(p.RssAnon_kB, pageKb),
          rssFile: kbToPages(p.RssFile_kB, pageKb),
          rssShmem: kbToPages(p.RssShmem_kB, pageKb),
          swapEnts: kbToPages(p.VmSwap_kB, pageKb),
          // VmPTE is mm_pgtables_bytes >> 10
          pgtablesBytes: (p.VmPTE_kB ?? 0) * 1024,
          oomSkip: false,
        },
    children: children.get(p.pid) ?? [],
    mmSharers: [],
  }));
  const totalRamPages = kbToPages(s.meminfo_kB.MemTotal, pageKb);
  const totalSwapPages = kbToPages(s.meminfo_kB.SwapTotal, pageKb);
  return { tasks, totalPages: totalRamPages + totalSwapPages, totalRamPages, totalSwapPages, nowNs: Math.round(s.uptime_s * 1000) * 1_000_000 };
}

/** The kernel profile closest to the snapshot's kernel release. */
export function profileOfRelease(release: string): KernelProfile {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m && Number(m[1]) === 2) return 'linux-2.6.18';
  return 'linux-6.18';
}

export interface MirroredProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly uid: number;
  readonly euid: number;
  readonly nice: number;
  readonly oomScoreAdj: number;
  readonly kernelThread: boolean;
  readonly threads: number;
  readonly startTimeNs: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Pages. */
  readonly totalVmPages: number;
  readonly rssAnonPages: number;
  readonly rssFilePages: number;
  readonly rssShmemPages: number;
  readonly swapPages: number;
  readonly pgtablesBytes: number;
  readonly capSysAdmin: boolean;
  readonly capSysResource: boolean;
  readonly capSysRawio: boolean;
  /** What the real kernel printed in /proc/<pid>/oom_score. */
  readonly kernelOomScore: number;
}

export interface MirroredMachine {
  readonly profile: KernelProfile;
  readonly kernelRelease: string;
  readonly pageSize: number;
  /** MemTotal (the kernel's totalram, below physical RAM) and SwapTotal, bytes: totalpages comes out the same. */
  readonly ramBytes: number;
  readonly swapBytes: number;
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
  readonly uptimeNs: number;
  readonly sysctl: VmSysctls;
  /** The memory picture at the snapshot, kB (MemFree, MemAvailable, Cached, Buffers, Shmem, AnonPages...). */
  readonly meminfoKb: Readonly<Record<string, number>>;
  /** In pid order; kernel threads included (no memory). */
  readonly processes: readonly MirroredProcess[];
}

/** What a simulated machine needs to mirror the snapshot's machine: RAM, swap, sysctls, every process's memory. */
export function snapshotToMachine(s: ProcSnapshot): MirroredMachine {
  const t = snapshotToOomTasks(s);
  const vm = s.vm;
  const pick = (k: keyof VmSysctls): number => (typeof vm[k] === 'number' && vm[k] >= 0 ? vm[k] : (DEFAULT_SYSCTLS[k] as number));
  const sysctl: VmSysctls = {
    overcommit_memory: clampTo(pick('overcommit_memory'), [0, 1, 2] as const, 0),
    overcommit_ratio: pick('overcommit_ratio'),
    overcommit_kbytes: pick('overcommit_kbytes'),
    admin_reserve_kbytes: pick('admin_reserve_kbytes'),
    user_reserve_kbytes: pick('user_reserve_kbytes'),
    min_free_kbytes: pick('min_free_kbytes'),
    watermark_scale_factor: pick('watermark_scale_factor'),
    swappiness: pick('swappiness'),
    panic_on_oom: clampTo(pick('panic_on_oom'), [0, 1, 2] as const, 0),
    oom_kill_allocating_task: pick('oom_kill_allocating_task') === 0 ? 0 : 1,
  };
  const byPid = new Map<number, SnapshotProcessRecord>();
  for (const p of s.processes) byPid.set(p.pid, p);
  return {
    profile: profileOfRelease(s.kernel),
    kernelRelease: s.kernel,
    pageSize: s.page_size,
    ramBytes: s.meminfo_kB.MemTotal * 1024,
    swapBytes: s.meminfo_kB.SwapTotal * 1024,
    totalRamPages: t.totalRamPages,
    totalSwapPages: t.totalSwapPages,
    uptimeNs: t.nowNs,
    sysctl,
    meminfoKb: { ...s.meminfo_kB },
    processes: t.tasks.map((task) => {
      const p = byPid.get(task.pid) as SnapshotProcessRecord;
      const mm = task.mm;
      return {
        pid: task.pid,
        ppid: task.ppid,
        name: task.name,
        uid: task.uid,
        euid: task.euid,
        nice: task.nice,
        oomScoreAdj: task.oomScoreAdj,
        kernelThread: task.isKthread,
        threads: p.threads,
        startTimeNs: task.startTimeNs,
        utimeTicks: task.utimeTicks,
        stimeTicks: task.stimeTicks,
        totalVmPages: mm?.totalVm ?? 0,
        rssAnonPages: mm?.rssAnon ?? 0,
        rssFilePages: mm?.rssFile ?? 0,
        rssShmemPages: mm?.rssShmem ?? 0,
        swapPages: mm?.swapEnts ?? 0,
        pgtablesBytes: mm?.pgtablesBytes ?? 0,
        capSysAdmin: task.capSysAdmin,
        capSysResource: task.capSysResource,
        capSysRawio: task.capSysRawio,
        kernelOomScore: p.oom_score,
      };
    }),
  };
}

function clampTo<T extends number>(v: number, allowed: readonly T[], dflt: T): T {
  return (allowed as readonly number[]).includes(v) ? (v as T) : dflt;
}
