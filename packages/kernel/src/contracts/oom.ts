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
  /** Jiffies of user and system CPU time (2.6.18's cpu_time). */
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
  readonly trigger: OomTrigger;
  /** oom_badness's totalpages: RAM + swap pages (global), memory.max + swap (memcg). */
  readonly totalPages: number;
  readonly tasks: readonly OomTask[];
  /** memcg OOM: the cgroups in the OOMing subtree, with memory.oom.group. */
  readonly memcgs?: readonly { readonly id: number; readonly parent: number; readonly oomGroup: boolean; readonly path: string }[];
  readonly nowNs: number;
}

/** oom's answer. vma acts on it. */
export type OomVerdict =
  | { readonly kind: 'kill'; readonly victim: number; readonly kill: readonly number[]; readonly killSeq: number }
  | { readonly kind: 'wait'; readonly reason: string } // an earlier victim is still exiting: retry, no new kill
  | { readonly kind: 'none'; readonly reason: string } // nothing killable: the allocation fails (memcg) or the machine is deadlocked
  | { readonly kind: 'panic'; readonly reason: string };
