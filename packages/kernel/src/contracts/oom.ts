// vma -> oom: an out-of-memory situation and every task that could be killed for it.
//
// vma holds the task list and every figure badness() reads, so it sends them along; oom
// decides (a pure policy over these inputs), records why, and answers with whom to kill.
// vma then kills (SIGKILL: exit_mmap frees the memory through frames) and retries the
// allocation that failed.
import type { AllocConstraint } from './frames.js';

export interface OomMmInfo {
  readonly mmId: number;
  /** Pages. */
  readonly totalVm: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
  readonly swapEnts: number;
  readonly pgtablesBytes: number;
  /** MMF_OOM_SKIP: already reaped. */
  readonly oomSkip: boolean;
}

/** One task of the task list, in the kernel's list order (for_each_process: by creation). */
export interface OomTask {
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  readonly name: string;
  readonly uid: number;
  readonly euid: number;
  readonly capSysAdmin: boolean;
  readonly capSysResource: boolean;
  readonly capSysRawio: boolean;
  readonly nice: number;
  readonly oomScoreAdj: number;
  /** The legacy oom_adj as written (2.6.18 reads this); derived from oomScoreAdj when only that was set. */
  readonly oomAdj: number;
  readonly isKthread: boolean;
  readonly inVfork: boolean;
  /** PF_EXITING */
  readonly exiting: boolean;
  /** TIF_MEMDIE / tsk_is_oom_victim */
  readonly oomVictim: boolean;
  /** PF_SWAPOFF (2.6.18) / oom_task_origin (later): scores the maximum. */
  readonly oomOrigin: boolean;
  /** User and system CPU time in clock ticks of USER_HZ = 100/s, as /proc/<pid>/stat counts them (2.6.18's cpu_time; oom converts to jiffies). */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Start time in simulated ns since boot. */
  readonly startTimeNs: number;
  /** The cgroup (memcg) id the task is in; 0 is the root. */
  readonly memcg: number;
  /** null: a kernel thread or an exited task (no mm). */
  readonly mm: OomMmInfo | null;
  /** pids of the children, in list order (2.6.18 adds half of each child's total_vm). */
  readonly children: readonly number[];
  /** Other thread-group leaders sharing this mm (CLONE_VM without CLONE_THREAD). */
  readonly mmSharers: readonly number[];
}

/** What failed and where. */
export interface OomTrigger {
  /** The task whose allocation failed (current). */
  readonly pid: number;
  /** Pages asked for at the failure (order-0 faults ask for 1). */
  readonly pages: number;
  readonly order: number;
  readonly gfp: string;
  /** What the task was doing: 'page-fault', 'brk', 'mmap-populate', 'swap-in', 'kernel' ... */
  readonly context: string;
  readonly constraint: AllocConstraint;
}

export interface OomRequest {
  /** Set it to send the request itself as the oom aggregate's command (Need('oom', request)). */
  readonly type?: 'OutOfMemory';
  readonly trigger: OomTrigger;
  /** oom_badness's totalpages: RAM + swap pages (global), memory.max + swap (memcg). */
  readonly totalPages: number;
  readonly tasks: readonly OomTask[];
  /** memcg OOM: the cgroups in the OOMing subtree, with memory.oom.group. */
  readonly memcgs?: readonly OomMemcgInfo[];
  readonly nowNs: number;
  /** RAM and swap pages of the machine (totalram_pages, total_swap_pages): what-if recomputes totalpages from them. */
  readonly totalRamPages?: number;
  readonly totalSwapPages?: number;
}

/**
 * A cgroup of the OOMing subtree (memcg OOM), or of the whole tree (global OOM: memory.oom.group
 * applies there too). Parents come before children; siblings in creation order.
 */
export interface OomMemcgInfo {
  readonly id: number;
  readonly parent: number;
  readonly oomGroup: boolean;
  readonly path: string;
  /** memory.max and memory.swap.max in pages, -1 = "max" (what-if recomputes totalpages from them). */
  readonly memoryMaxPages?: number;
  readonly swapMaxPages?: number;
}

/** A memory.events counter to bump: in memory.events.local of `memcg`, and in memory.events of it and each ancestor below the root. */
export interface OomMemcgEvent {
  readonly memcg: number;
  readonly event: 'oom' | 'oom_kill' | 'oom_group_kill';
}

/** What every verdict may also carry (all optional: a verdict without them is still valid). */
export interface OomVerdictDetails {
  /** memory.events counters the decision bumps, in order. */
  readonly memcgEvents?: readonly OomMemcgEvent[];
  /** Tasks marked as OOM victims (TIF_MEMDIE, tsk_is_oom_victim): access to reserves; no new kill until reaped or exited. */
  readonly oomVictims?: readonly number[];
  /** /proc/vmstat oom_kill increments (one per __oom_kill_process). */
  readonly oomKillCount?: number;
  /** The kernel's log lines for this OOM, in order. */
  readonly logLines?: readonly string[];
  /** linux-6.18: when the oom_reaper will look at the victim (simulated ns); vm reaps on the Tick that says so. */
  readonly reapAfterNs?: number;
  /** 'none' on a memcg OOM: the charge fails with -ENOMEM. */
  readonly chargeFails?: boolean;
}

/** oom's answer. vma acts on it. */
export type OomVerdict =
  | ({ readonly kind: 'kill'; readonly victim: number; readonly kill: readonly number[]; readonly killSeq: number } & OomVerdictDetails)
  | ({ readonly kind: 'wait'; readonly reason: string } & OomVerdictDetails) // an earlier victim is still exiting: retry, no new kill
  | ({ readonly kind: 'none'; readonly reason: string } & OomVerdictDetails) // nothing killable: the allocation fails (memcg) or the machine is deadlocked
  | ({ readonly kind: 'panic'; readonly reason: string } & OomVerdictDetails);

/**
 * vma -> oom: simulated time moved. The oom_reaper and the userspace killers (earlyoom-like,
 * systemd-oomd-like) run on it. Sent as the oom command { type: 'Tick', ... }.
 */
export interface OomTickRequest {
  readonly type: 'Tick';
  readonly nowNs: number;
  /** /proc/meminfo figures, kB. */
  readonly meminfo: { readonly memTotalKb: number; readonly memAvailableKb: number; readonly swapTotalKb: number; readonly swapFreeKb: number };
  /** The task list, as in OomRequest (userspace killers read oom_score, names and cgroups from it). */
  readonly tasks: readonly OomTask[];
  readonly cgroups: readonly OomTickCgroup[];
  /** pids whose mmap_lock is held right now: the oom_reaper's trylock fails on them. */
  readonly mmapLockHeld?: readonly number[];
}

/** One cgroup's figures at a Tick. Cumulative counters only grow. */
export interface OomTickCgroup {
  readonly id: number;
  readonly parent: number;
  readonly path: string;
  /** memory.current, memory.swap.current (pages). */
  readonly memoryCurrentPages: number;
  readonly swapCurrentPages: number;
  /** Cumulative ns during which all of the cgroup's tasks stalled on memory (PSI "full" total). */
  readonly memoryFullStallNs: number;
  /** Cumulative pages scanned by reclaim on behalf of the cgroup (memory.stat pgscan). */
  readonly pgscan: number;
  /** systemd's ManagedOOMPreference for the cgroup. */
  readonly oomdPreference?: 'none' | 'avoid' | 'omit';
}

/** oom's answer to a Tick: what vma must do now. */
export interface OomTickActions {
  /** Signals from userspace killers, in order. */
  readonly signals: readonly { readonly pid: number; readonly signal: 'SIGTERM' | 'SIGKILL'; readonly by: 'earlyoom' | 'systemd-oomd' }[];
  /** The oom_reaper unmapped these victims' anonymous and private memory (vma frees it and sets MMF_OOM_SKIP). */
  readonly reap: readonly { readonly pid: number; readonly mmId: number }[];
  /** mms to flag MMF_OOM_SKIP (reaped, or the reaper gave up). */
  readonly oomSkip: readonly number[];
  readonly logLines: readonly string[];
}
