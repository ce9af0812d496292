// The vm aggregate's commands, events and state. Commands and events are plain data (numbers,
// strings, booleans, arrays, plain objects): others write the protobuf schema and gRPC around
// them. State is internal: it may hold Maps and typed arrays (page tables).
import type { MachineConfig, VmSysctls } from '../machine/config.js';
import type { AddHash, KernelProfile, PrngState } from '../common/index.js';
import type { AddrRange, Syscall, TouchResult } from '../contracts/heap-sys.js';
import type { FramesTotals, PageKind } from '../contracts/frames.js';
import type { OomTrigger, OomVerdict } from '../contracts/oom.js';
import type { PageTable } from './page-table.js';

// ---------------------------------------------------------------------------------------------
// Plain records (in events and in state)

export type TaskState = 'running' | 'exiting' | 'zombie' | 'dead';

/** Resource limits in bytes (RLIM_INFINITY = Number.MAX_SAFE_INTEGER means unlimited). Soft limits; hard = soft. */
export interface Rlimits {
  readonly as: number;
  readonly data: number;
  readonly stack: number;
  readonly memlock: number;
}

export interface Caps {
  readonly sysAdmin: boolean;
  readonly sysResource: boolean;
  readonly sysRawio: boolean;
  readonly ipcLock: boolean;
}

export type CapName = 'CAP_SYS_ADMIN' | 'CAP_SYS_RESOURCE' | 'CAP_SYS_RAWIO' | 'CAP_IPC_LOCK';

/** What a VMA maps. 'special': vdso/vvar (no RSS, never merged). */
export type VmaKind = 'anon' | 'file' | 'shmem' | 'special';

export interface Vma {
  readonly start: number;
  readonly end: number;
  /** VM_* bits (constants.ts). */
  readonly flags: number;
  /** vm_pgoff: file page offset; for private anonymous memory, start >> PAGE_SHIFT at creation (the rmap index base). */
  readonly pgoff: number;
  readonly kind: VmaKind;
  /** The file (or shmem object) id; 0 for anonymous and special mappings. */
  readonly file: number;
  /** '[vdso]', '[vvar]', '[vvar_vclock]' for special mappings; '' otherwise ([heap]/[stack] are derived as the kernel does). */
  readonly name: string;
  /** An anon_vma exists: some page of it was written (anonymous pages may exist). Read faults of the zero page do not create one. */
  readonly anon: boolean;
}

export interface Task {
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  /** comm: at most 15 characters for user tasks. */
  readonly name: string;
  readonly uid: number;
  readonly euid: number;
  readonly caps: Caps;
  readonly nice: number;
  /** signal->oom_score_adj (shared by the thread group). */
  readonly oomScoreAdj: number;
  /** signal->oom_score_adj_min: lowering oom_score_adj below it needs CAP_SYS_RESOURCE. */
  readonly oomScoreAdjMin: number;
  /** The legacy oom_adj as last written through /proc/<pid>/oom_adj; null when oom_score_adj was written since. */
  readonly oomAdjWritten: number | null;
  readonly rlimits: Rlimits;
  readonly startTimeNs: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly memcg: number;
  readonly state: TaskState;
  readonly isKthread: boolean;
  /** 0: no mm (kernel thread, or the mm is gone). */
  readonly mmId: number;
  readonly exitCode: number;
  /** The signal that ended the task (0: exit). */
  readonly exitSignal: number;
  /** TIF_MEMDIE: chosen by the OOM killer. */
  readonly oomVictim: boolean;
  /** Stuck in uninterruptible sleep: a SIGKILL stays pending and the task does not exit until unstuck. */
  readonly stuck: boolean;
  /** SIGKILL delivered but not acted on yet (a stuck task). */
  readonly killPending: boolean;
  readonly minflt: number;
  readonly majflt: number;
  /** The environment ("NAME=value"), read by the heap (MALLOC_ARENA_MAX...). */
  readonly env: readonly string[];
  /** Sequence number of creation: the kernel's task-list order. */
  readonly seq: number;
  /**
   * Pages of the task's kernel stack (THREAD_SIZE / PAGE_SIZE, as frames 'kernel_stack' pages);
   * 0 once the task exited (do_exit gives it back), and for tasks from logs recorded before
   * kernel stacks were modelled. Set from the creating event, never from a TaskRecord.
   */
  readonly kstackPages: number;
  /** The memcg the stack was charged to: the task's at creation (a later move leaves the charge where it is). */
  readonly kstackMemcg: number;
}

export interface Mm {
  readonly id: number;
  /** Tasks using this mm (threads, CLONE_VM processes). */
  readonly users: number;
  /** The mm whose anonymous pages this one inherited by fork (itself when spawned): the rmap family. */
  readonly anonRoot: number;
  readonly vmas: readonly Vma[];
  readonly mmapBase: number;
  readonly mmapLegacyBase: number;
  readonly startCode: number;
  readonly endCode: number;
  readonly startData: number;
  readonly endData: number;
  readonly startBrk: number;
  readonly brk: number;
  readonly startStack: number;
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
  /** Pages. */
  readonly totalVm: number;
  readonly lockedVm: number;
  readonly dataVm: number;
  readonly execVm: number;
  readonly stackVm: number;
  readonly hiwaterVm: number;
  readonly hiwaterRss: number;
  /** RSS counters: MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS. */
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
  readonly swapEnts: number;
  /** Page-table pages this mm populated (VmPTE = their sum * 4 kB). */
  readonly ptePages: number;
  readonly pmdPages: number;
  readonly pudPages: number;
  /** MMF_OOM_SKIP: reaped by the oom_reaper, or being torn down. */
  readonly oomSkip: boolean;
}

export interface FileInfo {
  readonly id: number;
  readonly path: string;
  readonly inode: number;
  /** dev_t as MAJOR << 8 | MINOR (fe:00 -> 0xfe00). */
  readonly dev: number;
  readonly sizeBytes: number;
  /** A shmem object (shared anonymous memory), destroyed with its last mapping. */
  readonly shmem: boolean;
  /** Pages charged to Committed_AS for this shmem object (0 with MAP_NORESERVE in modes 0/1). */
  readonly chargedPages: number;
}

export interface Cgroup {
  readonly id: number;
  readonly path: string;
  /** -1 for the root. */
  readonly parent: number;
  /** Bytes; -1 = "max". */
  readonly max: number;
  readonly high: number;
  readonly swapMax: number;
  readonly oomGroup: boolean;
  /** memory.events counters vm sees (the OOM killer runs here). */
  readonly oom: number;
  readonly oomKill: number;
  readonly oomGroupKill: number;
}

/** The frames figures vm caches at boot (RAM and swap do not change at run time here). */
export interface VmTotals {
  readonly totalRamPages: number;
  readonly totalSwapPages: number;
  readonly hugetlbPages: number;
  readonly freePagesAtBoot: number;
}

export interface VmMachine {
  readonly tenant: string;
  readonly machine: string;
  readonly profile: KernelProfile;
  readonly seed: number;
  readonly cpus: number;
  readonly ramBytes: number;
  readonly swapBytes: number;
  readonly modelVersion: number;
  readonly totals: VmTotals;
}

// ---------------------------------------------------------------------------------------------
// Commands

/** Commands re-run with the answers to their Needs carry them here (docs/architecture.md). */
interface Answered {
  readonly answers?: readonly unknown[];
}

/** Memory system calls: heap's Syscall, plus file mappings and mlock for clients. */
export type VmSyscall =
  | Syscall
  | { readonly nr: 'mmap'; readonly addr: number; readonly length: number; readonly prot: number; readonly flags: number; readonly fd: number; readonly offset: number }
  | { readonly nr: 'mremap'; readonly oldAddr: number; readonly oldSize: number; readonly newSize: number; readonly flags: number; readonly newAddr: number }
  | { readonly nr: 'mlock'; readonly addr: number; readonly length: number }
  | { readonly nr: 'munlock'; readonly addr: number; readonly length: number };

export interface SpawnSpec {
  readonly name: string;
  /** Default 1 (init). */
  readonly parent?: number;
  readonly uid?: number;
  readonly euid?: number;
  readonly nice?: number;
  readonly oomScoreAdj?: number;
  readonly rlimits?: Partial<Rlimits>;
  /** Default: every capability for uid 0, none otherwise. */
  readonly caps?: readonly CapName[];
  /** cgroup path; default the parent's. */
  readonly cgroup?: string;
  /** The initial program break (start_brk), e.g. a recorded trace's heap_base. */
  readonly brkStart?: number;
  readonly env?: readonly string[];
  readonly argv?: readonly string[];
  /** Fault in the pages a small program has touched by the time main() runs (default true). */
  readonly prefault?: boolean;
}

export type VmCommand = Answered &
  (
    | { readonly type: 'CreateMachine'; readonly config: MachineConfig; readonly totals?: FramesTotals }
    | ({ readonly type: 'Spawn' } & SpawnSpec)
    | { readonly type: 'Fork'; readonly pid: number; readonly shareVm?: boolean }
    | { readonly type: 'CloneThread'; readonly pid: number }
    | { readonly type: 'Exit'; readonly pid: number; readonly code?: number; /** Died of this signal instead (SIGABRT 6 from glibc's abort(), SIGSEGV 11). */ readonly signal?: number }
    | { readonly type: 'Kill'; readonly pid: number }
    | { readonly type: 'Wait'; readonly pid: number }
    | { readonly type: 'Syscall'; readonly pid: number; readonly call: VmSyscall }
    | { readonly type: 'Touch'; readonly pid: number; readonly writes: readonly AddrRange[]; readonly reads: readonly AddrRange[] }
    /** read(2) of `length` bytes at `offset` of file `file` (a FileCreated id) into the page cache; answered like a touch. */
    | { readonly type: 'ReadFile'; readonly pid: number; readonly file: number; readonly offset: number; readonly length: number }
    | { readonly type: 'SetOomScoreAdj'; readonly pid: number; readonly value: number; readonly legacy?: boolean; readonly writer?: number }
    | { readonly type: 'SetNice'; readonly pid: number; readonly nice: number }
    | { readonly type: 'SetRlimit'; readonly pid: number; readonly resource: keyof Rlimits; readonly value: number }
    | { readonly type: 'AddCpuTime'; readonly pid: number; readonly utimeTicks: number; readonly stimeTicks: number }
    | { readonly type: 'SetTaskStuck'; readonly pid: number; readonly stuck: boolean }
    | { readonly type: 'ReapOomVictim'; readonly pid: number }
    | { readonly type: 'SetSysctl'; readonly name: keyof VmSysctls; readonly value: number }
    | { readonly type: 'CreateCgroup'; readonly path: string }
    | { readonly type: 'RemoveCgroup'; readonly path: string }
    | { readonly type: 'SetCgroupLimit'; readonly path: string; readonly max?: number; readonly high?: number; readonly swapMax?: number; readonly oomGroup?: boolean }
    | { readonly type: 'MoveToCgroup'; readonly pid: number; readonly path: string }
    | { readonly type: 'CreateFile'; readonly path: string; readonly sizeBytes: number }
    | { readonly type: 'AdvanceTime'; readonly ns: number }
  );

export type VmCommandType = VmCommand['type'];

// ---------------------------------------------------------------------------------------------
// Events

/** A new task record as events carry it. */
export type TaskRecord = Omit<Task, 'state' | 'exitCode' | 'exitSignal' | 'oomVictim' | 'stuck' | 'killPending' | 'minflt' | 'majflt' | 'kstackPages' | 'kstackMemcg'>;

/** How a batch of pages was faulted in. */
export type FaultHow =
  | 'zero' // anonymous read: the shared zero page, read-only (resident for mincore, not in RSS)
  | 'anon' // anonymous write: a new zeroed page
  | 'cow' // write to a page shared after fork (or the zero page, or a private file page): a private copy
  | 'reuse' // write to a write-protected anonymous page nobody else maps any more: made writable
  | 'file' // a page-cache page mapped (file-backed)
  | 'shmem' // a shmem page mapped (shared anonymous)
  | 'swapin' // an anonymous page back from swap (or from the swap cache, where another mm brought it back)
  | 'redirty'; // a write to a MADV_FREE'd page: it is no longer lazily freeable

/** Pages reclaim took, as frames reports them: page k is pfn + k, index + k, swap slot + k (slot -1: dropped). */
export interface EvictedRun {
  readonly pfn: number;
  readonly count: number;
  readonly kind: PageKind;
  readonly owner: number;
  readonly index: number;
  readonly slot: number;
}

export interface MmLayout {
  readonly mmapBase: number;
  readonly mmapLegacyBase: number;
  readonly startCode: number;
  readonly endCode: number;
  readonly startData: number;
  readonly endData: number;
  readonly startBrk: number;
  readonly brk: number;
  readonly startStack: number;
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
}

export type VmEvent =
  | {
      readonly type: 'MachineCreated';
      readonly tenant: string;
      readonly machine: string;
      readonly profile: KernelProfile;
      readonly modelVersion: number;
      readonly seed: number;
      readonly cpus: number;
      readonly ramBytes: number;
      readonly swapBytes: number;
      readonly sysctl: VmSysctls;
      readonly totals: VmTotals;
      /** The reserves init_admin_reserve()/init_user_reserve() computed (kB), when the config said -1. */
      readonly adminReserveKbytes: number;
      readonly userReserveKbytes: number;
    }
  | { readonly type: 'FileCreated'; readonly file: FileInfo }
  | {
      readonly type: 'TaskSpawned';
      readonly task: TaskRecord;
      /** 0 for a kernel thread. */
      readonly mmId: number;
      readonly layout: MmLayout | null;
      readonly vmas: readonly Vma[];
      /** Committed_AS pages charged by exec's mappings. */
      readonly chargedPages: number;
      /** The aslr stream after this spawn's draws. */
      readonly aslr: PrngState;
      /** The task's kernel stack, charged to task.memcg (0: none, as in logs from before stacks were modelled). */
      readonly kernelStackPages: number;
    }
  | {
      readonly type: 'TaskForked';
      readonly parent: number;
      readonly task: TaskRecord;
      readonly shareVm: boolean;
      readonly chargedPages: number;
      /** The child's page-table pages (keys as in PageTablesAllocated) for the PTEs copied from the parent. */
      readonly tableKeys: readonly number[];
      readonly tablePfns: readonly number[];
      /** The child's kernel stack (as in TaskSpawned). */
      readonly kernelStackPages: number;
    }
  | { readonly type: 'ThreadCloned'; readonly task: TaskRecord; /** The thread's kernel stack (as in TaskSpawned). */ readonly kernelStackPages: number }
  | { readonly type: 'TaskExited'; readonly pid: number; readonly code: number; readonly signal: number; readonly oomVictim: boolean }
  | { readonly type: 'KillPending'; readonly pid: number; readonly oomVictim: boolean }
  | { readonly type: 'TaskReaped'; readonly pid: number }
  | { readonly type: 'PageTablesAllocated'; readonly mmId: number; readonly keys: readonly number[]; readonly pfns: readonly number[] }
  | {
      readonly type: 'PagesFaulted';
      readonly pid: number;
      readonly mmId: number;
      readonly how: FaultHow;
      readonly write: boolean;
      /** Virtual page numbers as runs: [first, count, first, count, ...]. */
      readonly vpns: readonly number[];
      /** The frames in the same order, as runs (empty for zero/reuse/redirty). */
      readonly pfns: readonly number[];
      readonly majorFaults: number;
    }
  | { readonly type: 'PagesEvicted'; readonly runs: readonly EvictedRun[] }
  | { readonly type: 'BrkMoved'; readonly pid: number; readonly mmId: number; readonly oldBrk: number; readonly newBrk: number; readonly chargedPages: number }
  | {
      readonly type: 'VmaMapped';
      readonly pid: number;
      readonly mmId: number;
      readonly vma: Vma;
      readonly chargedPages: number;
      /** A new shmem object created for this mapping (MAP_SHARED | MAP_ANONYMOUS). */
      readonly shmem: FileInfo | null;
    }
  | { readonly type: 'VmaUnmapped'; readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number }
  | { readonly type: 'VmaProtected'; readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number; readonly prot: number; readonly chargedPages: number }
  | {
      readonly type: 'VmaRemapped';
      readonly pid: number;
      readonly mmId: number;
      readonly oldStart: number;
      readonly oldEnd: number;
      readonly newStart: number;
      readonly newEnd: number;
      readonly chargedPages: number;
    }
  | { readonly type: 'VmaLocked'; readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number; readonly locked: boolean }
  | { readonly type: 'PagesZapped'; readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number }
  | { readonly type: 'PagesLazyFreed'; readonly pid: number; readonly mmId: number; readonly start: number; readonly end: number }
  | { readonly type: 'StackExpanded'; readonly pid: number; readonly mmId: number; readonly newStart: number; readonly chargedPages: number }
  | { readonly type: 'SyscallReturned'; readonly pid: number; readonly call: VmSyscall; readonly result: number }
  | { readonly type: 'TouchCompleted'; readonly pid: number; readonly result: TouchResult }
  | { readonly type: 'OomKillApplied'; readonly trigger: OomTrigger; readonly verdict: OomVerdict; readonly killed: readonly number[] }
  | { readonly type: 'OomReaped'; readonly pid: number; readonly mmId: number }
  | { readonly type: 'OomSkipSet'; readonly mmId: number }
  | { readonly type: 'MachinePanicked'; readonly reason: string }
  | { readonly type: 'ClockAdvanced'; readonly nowNs: number }
  | { readonly type: 'SysctlSet'; readonly name: keyof VmSysctls; readonly value: number }
  | { readonly type: 'CgroupCreated'; readonly cgroup: Cgroup }
  | { readonly type: 'CgroupLimitSet'; readonly id: number; readonly max: number; readonly high: number; readonly swapMax: number; readonly oomGroup: boolean }
  | { readonly type: 'CgroupRemoved'; readonly id: number }
  | { readonly type: 'CgroupOomCounted'; readonly id: number; readonly oom: number; readonly oomKill: number; readonly oomGroupKill: number }
  | { readonly type: 'TaskMoved'; readonly pid: number; readonly memcg: number }
  | { readonly type: 'OomScoreAdjSet'; readonly pids: readonly number[]; readonly value: number; readonly legacyWritten: number | null; readonly adjMin: number }
  | { readonly type: 'NiceSet'; readonly pid: number; readonly nice: number }
  | { readonly type: 'RlimitSet'; readonly pid: number; readonly resource: keyof Rlimits; readonly value: number }
  | { readonly type: 'CpuTimeAdded'; readonly pid: number; readonly utimeTicks: number; readonly stimeTicks: number }
  | { readonly type: 'TaskStuckSet'; readonly pid: number; readonly stuck: boolean }
  | { readonly type: 'CommandFailed'; readonly command: VmCommandType; readonly pid: number; readonly errno: number };

export type VmEventType = VmEvent['type'];

// ---------------------------------------------------------------------------------------------
// State

export interface VmScalars {
  clockNs: number;
  aslr: PrngState;
  nextPid: number;
  nextSeq: number;
  nextMmId: number;
  nextFileId: number;
  nextInode: number;
  nextMemcg: number;
  /** vm_committed_as, pages. */
  committed: number;
  pgfault: number;
  pgmajfault: number;
  /** Faults broken down (for vmstat and benches): zero-page maps, new anon pages, COW copies. */
  pgfaultZero: number;
  pgfaultCow: number;
  oomKills: number;
  panicked: string;
  sysctl: VmSysctls;
  adminReserveKbytes: number;
  userReserveKbytes: number;
}

export interface VmState {
  machine: VmMachine | null;
  sc: VmScalars;
  tasks: Map<number, Task>;
  /** pids in the kernel's task-list order (creation order). */
  order: number[];
  mms: Map<number, Mm>;
  pts: Map<number, PageTable>;
  /** mapcount of anonymous pages mapped by more than one PTE (after fork); absent = 1. (Swap counts live in frames.) */
  shared: Map<number, number>;
  files: Map<number, FileInfo>;
  cgroups: Map<number, Cgroup>;
  /** The order-independent part of the state hash (tasks, mms, VMAs, PTEs, maps). */
  hash: AddHash;
  /**
   * Derived, not hashed: ppid -> the pids whose ppid it is, so finding a task's children does not
   * scan the task list. Built from `tasks` on first use (world.ts childIndexOf), then kept current
   * by every change of a task record.
   */
  childIndex?: Map<number, Set<number>>;
  /** Derived, not hashed: path -> file id of the files that have a path (shmem objects have none). */
  pathIndex?: Map<string, number>;
  /**
   * Derived, not hashed (it follows from the PTEs, which are): pfn -> how many PTEs map that
   * page-cache page (file or shmem; a PTE without PTE_ANON), the page's mapcount. Its size is
   * NR_FILE_MAPPED (Mapped). Built from the page tables on first use (world.ts fileMapsOf), then
   * kept current by every PTE write of evolve (World.hashPte); decide's drafts do not keep it.
   */
  fileMaps?: Map<number, number>;
}
