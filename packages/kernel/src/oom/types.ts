// The oom aggregate's commands, events and state. Everything here is plain data (numbers,
// strings, booleans, arrays, plain objects with fixed keys): no Map, no bigint, no floats in
// events, so a protobuf schema maps onto these types one to one. The kernel's extreme badness
// values (ULONG_MAX, LONG_MAX, LONG_MIN) are named markers, not numbers.
import type { KernelProfile } from '../common/index.js';
import type {
  OomMemcgEvent,
  OomRequest,
  OomTask,
  OomTickRequest,
  OomTrigger,
} from '../contracts/oom.js';
import type { MachineConfig } from '../machine/config.js';

// ---------------------------------------------------------------------------------------------
// Points

/** The kernel's named extremes: unsigned long ULONG_MAX (2.6.18), long LONG_MAX / LONG_MIN (5.9+). */
export type PointsMarker = 'ULONG_MAX' | 'LONG_MAX' | 'LONG_MIN';
/**
 * A badness value as the kernel's variable holds it. Numbers are exact integers (|x| < 2^53);
 * 2.6.18's are unsigned, 6.18's signed. Protobuf: oneof { sint64 value; PointsMarker marker }.
 */
export type Points = number | PointsMarker;

// ---------------------------------------------------------------------------------------------
// Policy

/** The OOM sysctls (/proc/sys/vm). */
export interface OomPolicy {
  /** 0: kill; 1: panic on an unconstrained (global) OOM; 2: panic on every OOM. 2.6.18: any non-zero panics on a global OOM. */
  readonly panicOnOom: 0 | 1 | 2;
  /** Non-zero: kill the task whose allocation failed instead of scanning (2.6.24+; ignored by linux-2.6.18). */
  readonly oomKillAllocatingTask: 0 | 1;
}

export type UserspaceKillerKind = 'earlyoom' | 'systemd-oomd';

/**
 * earlyoom-like options (earlyoom's -m/-s/--prefer/--avoid/--ignore/--sort-by-rss/--dryrun).
 * Percentages are whole percent. intervalMs 0: earlyoom's adaptive sleep (100..1000 ms).
 */
export interface EarlyoomOptions {
  readonly memTermPercent: number;
  readonly memKillPercent: number;
  readonly swapTermPercent: number;
  readonly swapKillPercent: number;
  /** Regular expressions (JS syntax) on the process name; '' = none. */
  readonly prefer: string;
  readonly avoid: string;
  readonly ignore: string;
  readonly sortByRss: boolean;
  readonly intervalMs: number;
  readonly dryRun: boolean;
}

/**
 * systemd-oomd-like options. Limits are in basis points (1/100 of a percent): 9000 = 90%.
 * swapMonitored / pressureMonitored: cgroup paths with ManagedOOMSwap=kill /
 * ManagedOOMMemoryPressure=kill; their leaf descendants are the candidates.
 */
export interface OomdOptions {
  readonly swapUsedLimitBp: number;
  /** A candidate must use more than this share of total swap (systemd: 5%). */
  readonly swapCandidateMinBp: number;
  readonly memoryPressureLimitBp: number;
  readonly memoryPressureDurationMs: number;
  /** The pressure average's window (PSI avg10: 10 s). */
  readonly pressureWindowMs: number;
  /** One poll cadence for both rules (systemd-oomd: swap every 150 ms, pressure every 1 s). */
  readonly intervalMs: number;
  /** No new kill for this long after one (systemd: 15 s). */
  readonly postActionDelayMs: number;
  readonly swapMonitored: readonly string[];
  readonly pressureMonitored: readonly string[];
  readonly dryRun: boolean;
}

export type UserspaceKillerOptions =
  | ({ readonly kind: 'earlyoom' } & EarlyoomOptions)
  | ({ readonly kind: 'systemd-oomd' } & OomdOptions);

// ---------------------------------------------------------------------------------------------
// Commands

/** The OOM request as a command: vm sends its OomRequest with type 'OutOfMemory'. */
export type OutOfMemoryCommand = OomRequest & { readonly type: 'OutOfMemory' };

export type OomSysctlName = 'panic_on_oom' | 'oom_kill_allocating_task';

export type OomCommand =
  /** From CreateMachine: the first command of every machine. */
  | { readonly type: 'Configure'; readonly config: MachineConfig; readonly totalRamPages?: number; readonly totalSwapPages?: number }
  | { readonly type: 'SetPolicy'; readonly panicOnOom?: 0 | 1 | 2; readonly oomKillAllocatingTask?: 0 | 1 }
  /** A write to /proc/sys/vm/<name>, checked as the kernel checks it. */
  | { readonly type: 'SetSysctl'; readonly name: OomSysctlName; readonly value: number }
  /** options: any subset of the kind's options (the rest are the tool's defaults); checked like a command line. */
  | { readonly type: 'EnableUserspaceKiller'; readonly kind: UserspaceKillerKind; readonly options?: Partial<EarlyoomOptions> | Partial<OomdOptions> }
  | { readonly type: 'DisableUserspaceKiller'; readonly kind: UserspaceKillerKind }
  | OutOfMemoryCommand
  | OomTickRequest
  /** The victim's process is gone (exit_mmap done): the next OOM may kill again. */
  | { readonly type: 'VictimExited'; readonly pid: number }
  /** The victim's mm was reaped (MMF_OOM_SKIP): it no longer blocks a new kill. */
  | { readonly type: 'VictimReaped'; readonly pid: number };

// ---------------------------------------------------------------------------------------------
// The candidate table

/** linux-6.18 oom_badness()'s inputs, pages. */
export interface Badness618Factors {
  readonly formula: 'linux-6.18';
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
  readonly swapEnts: number;
  /** mm_pgtables_bytes / PAGE_SIZE */
  readonly pgtables: number;
  readonly oomScoreAdj: number;
  /** totalpages / 1000 (integer division first, as the kernel does) */
  readonly adjUnit: number;
}

/** linux-2.6.18 badness()'s inputs and the divisors it derived, in the order it applies them. */
export interface Badness2618Factors {
  readonly formula: 'linux-2.6.18';
  readonly totalVm: number;
  /** Sum over children with their own mm of total_vm / 2 + 1. */
  readonly childrenPoints: number;
  readonly childrenCounted: number;
  /** (utime + stime in jiffies) >> (SHIFT_HZ + 3), and int_sqrt of it (0: no division). */
  readonly cpuTime: number;
  readonly cpuDivisor: number;
  /** (uptime - start_time) >> 10 seconds, and int_sqrt(int_sqrt()) of it. */
  readonly runTime: number;
  readonly runDivisor: number;
  readonly niceDoubled: boolean;
  /** CAP_SYS_ADMIN, uid 0 or euid 0. */
  readonly adminQuartered: boolean;
  readonly rawioQuartered: boolean;
  readonly oomAdj: number;
}

export type BadnessFactors = Badness618Factors | Badness2618Factors;

/** Why a task was not a candidate. */
export type SkipReason =
  | 'global-init' // pid 1
  | 'kernel-thread' // PF_KTHREAD (6.18)
  | 'no-mm' // exited or a kernel thread (no mm)
  | 'oom-score-adj-min' // oom_score_adj -1000
  | 'oom-disable' // 2.6.18 oom_adj -17 (OOM_DISABLE)
  | 'mm-oom-skip' // MMF_OOM_SKIP: already reaped
  | 'in-vfork'
  | 'oom-victim-reaped'; // an earlier victim whose mm is reaped (6.18)

/**
 * What became of a task in the scan:
 * - victim: chosen; outscored: scored below the chosen; lost-tie: scored the same and the
 *   profile's tie rule chose another; skipped: see `skip`; scored: looked at, but no task was
 *   chosen (the scan stopped later on);
 * - blocks: an earlier victim not yet reaped / a task releasing memory: the scan stopped here, no new kill;
 * - not-reached: the scan stopped before this task (abort, 2.6.18 PF_SWAPOFF);
 * - not-considered: no scan ran (oom_kill_allocating_task); points shown for information.
 */
export type CandidateOutcome = 'victim' | 'outscored' | 'lost-tie' | 'skipped' | 'scored' | 'blocks' | 'not-reached' | 'not-considered';

export interface OomCandidate {
  readonly pid: number;
  readonly tgid: number;
  readonly name: string;
  readonly uid: number;
  readonly memcg: number;
  /** null: skipped before badness() looked at it. */
  readonly factors: BadnessFactors | null;
  /** What the selection compared (null when skipped). */
  readonly points: Points | null;
  /** /proc/<pid>/oom_score at the time (6.18: scaled, 0 for unkillable; 2.6.18: raw badness). */
  readonly oomScore: number;
  readonly outcome: CandidateOutcome;
  readonly skip: SkipReason | null;
}

/** Why the winner won. */
export interface WinReason {
  readonly rule:
    | 'highest-points' // strictly more than every other candidate
    | 'tie-later-wins' // 6.18: equal points, later in the scan
    | 'tie-first-wins' // 2.6.18: equal points, first in the scan
    | 'only-candidate'
    | 'oom-task-origin' // 6.18 oom_task_origin: LONG_MAX
    | 'swapoff' // 2.6.18 PF_SWAPOFF: taken at once
    | 'allocating-task'; // oom_kill_allocating_task
  /** Candidates with the same points as the winner, in scan order (the winner included). */
  readonly tiedWith: readonly number[];
  /** The best other candidate (null when none). */
  readonly runnerUp: number | null;
}

/** A task the OOM killer sent SIGKILL to, in order. */
export interface KilledTask {
  readonly pid: number;
  readonly tgid: number;
  readonly name: string;
  readonly uid: number;
  /**
   * victim: the chosen task; child: 2.6.18 killed a child with its own mm instead of the chosen;
   * shares-mm: a process sharing the victim's mm; oom-group: a member of the memory.oom.group cgroup.
   */
  readonly why: 'victim' | 'child' | 'shares-mm' | 'oom-group';
  /** Pages, at the kill: the figures the log line prints. */
  readonly totalVm: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
  readonly pgtablesBytes: number;
  readonly oomScoreAdj: number;
  readonly mmId: number;
  readonly memcg: number;
}

export type OomConstraint = 'CONSTRAINT_NONE' | 'CONSTRAINT_MEMCG';

/** Facts common to every decision event of an OutOfMemory command. */
export interface OomDecisionBase {
  readonly profile: KernelProfile;
  readonly modelVersion: number;
  readonly policy: OomPolicy;
  /** The request as vm sent it: replay and what-if re-decide from it. */
  readonly request: OomRequest;
  readonly constraint: OomConstraint;
  /** totalpages as the decision used it (memcg: at least 1). */
  readonly totalPages: number;
  /** Every task the scan looked at, in scan order (6.18: thread-group leaders; memcg: the subtree). */
  readonly candidates: readonly OomCandidate[];
  readonly memcgEvents: readonly OomMemcgEvent[];
  readonly logLines: readonly string[];
}

export type OomNoKillReason =
  | 'victim-not-reaped' // 6.18: an earlier victim's mm is not reaped yet (abort)
  | 'task-releasing-memory' // 2.6.18: a task is exiting or has TIF_MEMDIE (abort)
  | 'current-exiting' // 6.18: the allocating task is dying: it gets the reserves
  | 'victim-exiting' // 6.18: the chosen task is already dying: marked, not killed again
  | 'gfp-no-fs' // 6.18: !__GFP_FS outside a memcg: no kill, the allocation retries or fails
  | 'costly-order' // memcg charge of order > 3: fails without an OOM kill
  | 'no-candidate' // memcg: nothing killable: the charge fails with -ENOMEM
  | 'chosen-has-no-mm'; // 2.6.18: the chosen task (a kernel thread) has no mm: the kernel retries forever

export type OomEvent =
  | {
      readonly type: 'OomInitialized';
      readonly config: MachineConfig;
      readonly modelVersion: number;
      readonly policy: OomPolicy;
      readonly totalRamPages: number;
      readonly totalSwapPages: number;
    }
  | { readonly type: 'PolicySet'; readonly policy: OomPolicy; readonly sysctl: OomSysctlName | null }
  | { readonly type: 'UserspaceKillerEnabled'; readonly options: UserspaceKillerOptions }
  | { readonly type: 'UserspaceKillerDisabled'; readonly kind: UserspaceKillerKind }
  | (OomDecisionBase & {
      readonly type: 'OomKillDecided';
      readonly trigger: OomTrigger;
      /** The kill number on this machine (1, 2, ...). */
      readonly killSeq: number;
      /** The task the selection chose (2.6.18 may then kill a child of it instead). */
      readonly chosen: number;
      readonly chosenPoints: Points;
      readonly why: WinReason;
      /** SIGKILLed, in order, each pid once. */
      readonly killed: readonly KilledTask[];
      /** memory.oom.group: the cgroup whose tasks all die (null when none). */
      readonly oomGroup: { readonly memcg: number; readonly path: string } | null;
      /** Tasks marked as OOM victims (each __oom_kill_process / __oom_kill_task target), in order. */
      readonly oomVictims: readonly OomVictimMark[];
      /** /proc/vmstat oom_kill increments. */
      readonly oomKillCount: number;
      /** 6.18: the oom_reaper's first look (simulated ns); -1 when it will not run. */
      readonly reapAfterNs: number;
    })
  | (OomDecisionBase & {
      readonly type: 'OomNoKill';
      readonly reason: OomNoKillReason;
      /** The task the reason is about (the blocking victim, the exiting task, the chosen kernel thread); -1 when none. */
      readonly pid: number;
      /** Marked as OOM victim now (current-exiting, victim-exiting); null when none. */
      readonly marked: OomVictimMark | null;
    })
  | (OomDecisionBase & {
      readonly type: 'OomPanicked';
      /** The panic message, as the kernel prints it. */
      readonly message: string;
      readonly reason: 'panic-on-oom' | 'no-killable-task';
    })
  | {
      readonly type: 'ReaperRan';
      readonly nowNs: number;
      readonly pid: number;
      readonly mmId: number;
      readonly attempt: number;
      /** reaped: anonymous/private memory unmapped, MMF_OOM_SKIP; busy: mmap_lock held, retry in 100 ms; gave-up: 10 tries failed, MMF_OOM_SKIP anyway. */
      readonly result: 'reaped' | 'busy' | 'gave-up';
      readonly nextAttemptNs: number;
      readonly logLines: readonly string[];
    }
  | {
      readonly type: 'UserspaceKillerPolled';
      readonly kind: UserspaceKillerKind;
      readonly nowNs: number;
      readonly nextPollNs: number;
      /** systemd-oomd: per monitored cgroup, the sample taken and the pressure derived. */
      readonly samples: readonly OomdSample[];
    }
  | {
      readonly type: 'UserspaceKill';
      readonly kind: UserspaceKillerKind;
      readonly nowNs: number;
      readonly signal: 'SIGTERM' | 'SIGKILL';
      readonly reason: string;
      /** Processes signalled, in order (empty in dry-run mode). */
      readonly pids: readonly number[];
      /** systemd-oomd: the cgroup killed; -1 for earlyoom. */
      readonly cgroup: number;
      readonly cgroupPath: string;
      /** The best-ranked candidates (up to 8), best first, with what they were ranked by. */
      readonly ranking: readonly UserspaceCandidate[];
      readonly dryRun: boolean;
      readonly logLines: readonly string[];
    }
  | { readonly type: 'VictimExited'; readonly pid: number }
  | { readonly type: 'VictimReaped'; readonly pid: number };

/** A task marked as OOM victim (TIF_MEMDIE; 6.18: signal->oom_mm). */
export interface OomVictimMark {
  readonly pid: number;
  readonly tgid: number;
  readonly name: string;
  readonly mmId: number;
  /** 6.18: when the oom_reaper first looks at it; -1: no reaper (2.6.18, or the mm is pinned by init). */
  readonly reapAtNs: number;
  /** MMF_OOM_SKIP set at once (6.18: the mm is shared with init and cannot be reaped). */
  readonly oomSkip: boolean;
}

/** A pressure sample of one monitored cgroup: cumulative stall and pgscan, and the pressure since the window's start. */
export interface OomdSample {
  readonly cgroup: number;
  readonly stallNs: number;
  readonly pgscan: number;
  /** Full-stall share over the window, basis points. */
  readonly pressureBp: number;
  /** Since when the pressure has been above the limit (-1: it is not). */
  readonly aboveSinceNs: number;
}

export interface UserspaceCandidate {
  readonly pid: number; // earlyoom: the process; systemd-oomd: -1
  readonly cgroup: number; // systemd-oomd: the cgroup; earlyoom: -1
  readonly name: string; // process name or cgroup path
  /** earlyoom: oom_score with prefer/avoid applied (or VmRSS kB); systemd-oomd: swap pages or pgscan per second. */
  readonly rank: number;
  readonly detail: string;
}

// ---------------------------------------------------------------------------------------------
// State

export interface VictimRecord {
  readonly pid: number;
  readonly tgid: number;
  readonly name: string;
  readonly mmId: number;
  readonly killSeq: number;
  readonly killedAtNs: number;
  /** The mm is reaped or exit_mmap finished: MMF_OOM_SKIP, the victim no longer blocks. */
  readonly oomSkip: boolean;
  /** 6.18: next oom_reaper attempt (-1: none pending). */
  readonly reapAtNs: number;
  readonly reapAttempts: number;
}

export interface EarlyoomState {
  readonly options: { readonly kind: 'earlyoom' } & EarlyoomOptions;
  readonly nextPollNs: number;
}

export interface OomdCgroupWindow {
  readonly cgroup: number;
  /** Samples within the pressure window, oldest first. */
  readonly times: readonly number[];
  readonly stalls: readonly number[];
  readonly pgscans: readonly number[];
  readonly aboveSinceNs: number;
}

export interface OomdState {
  readonly options: { readonly kind: 'systemd-oomd' } & OomdOptions;
  readonly nextPollNs: number;
  readonly quietUntilNs: number;
  readonly windows: readonly OomdCgroupWindow[];
}

export interface OomState {
  readonly configured: boolean;
  readonly profile: KernelProfile;
  readonly modelVersion: number;
  readonly policy: OomPolicy;
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
  readonly killSeq: number;
  /** Victims whose process has not exited yet, in kill order. */
  readonly victims: readonly VictimRecord[];
  readonly panicked: boolean;
  readonly earlyoom: EarlyoomState | null;
  readonly oomd: OomdState | null;
  readonly counters: { readonly ooms: number; readonly kills: number; readonly noKills: number; readonly userspaceKills: number; readonly reaped: number };
}

export type { OomRequest, OomTask, OomTrigger, OomTickRequest };
