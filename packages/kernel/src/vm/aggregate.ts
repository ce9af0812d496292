// The vm aggregate: Aggregate<VmCommand, VmEvent, VmState>, one per machine.
import { AddHash, invalid, isNeed, Need, precondition, StateHasher, unreachable, type Aggregate } from '../common/index.js';
import { DEFAULT_SYSCTLS } from '../machine/config.js';
import type { TouchResult } from '../contracts/heap-sys.js';
import { apply } from './apply.js';
import { Ctx, type Ask, type Step } from './ctx.js';
import {
  decideAddCpuTime,
  decideCloneThread,
  decideExit,
  decideFork,
  decideKill,
  decideReapOomVictim,
  decideSetNice,
  decideSetOomScoreAdj,
  decideSetRlimit,
  decideSetTaskStuck,
  decideSpawn,
  decideWait,
  mustUserTask,
} from './decide-tasks.js';
import { decideAdvanceTime, decideCreateFile, decideCreateMachine, decideSetSysctl } from './decide-machine.js';
import { decideCreateCgroup, decideMoveToCgroup, decideRemoveCgroup, decideSetCgroupLimit } from './decide-cgroups.js';
import { faultIn } from './fault.js';
import { readFile } from './read-file.js';
import { touchSpans } from './spans.js';
import { decideSyscall, normalizeSyscall } from './syscalls/index.js';
import type { VmCommand, VmEvent, VmState } from './types.js';
import { World } from './world.js';

export function initialState(): VmState {
  return {
    machine: null,
    sc: {
      clockNs: 0,
      aslr: [1, 0, 0, 0],
      nextPid: 1,
      nextSeq: 1,
      nextMmId: 1,
      nextFileId: 1,
      nextInode: 260000,
      nextMemcg: 1,
      committed: 0,
      pgfault: 0,
      pgmajfault: 0,
      pgfaultZero: 0,
      pgfaultCow: 0,
      oomKills: 0,
      panicked: '',
      sysctl: DEFAULT_SYSCTLS,
      adminReserveKbytes: 8192,
      userReserveKbytes: 131072,
    },
    tasks: new Map(),
    order: [],
    mms: new Map(),
    pts: new Map(),
    shared: new Map(),
    files: new Map(),
    cgroups: new Map(),
    hash: new AddHash(),
  };
}

/** The body of decide() for one command: emits into ctx, asks by yielding. */
function* run(ctx: Ctx, cmd: VmCommand): Step<void> {
  if (cmd.type !== 'CreateMachine') {
    if (!ctx.w.machine) throw precondition('vma.NO_MACHINE', 'CreateMachine first');
    if (ctx.w.sc.panicked) throw precondition('vma.MACHINE_PANICKED', `the machine panicked: ${ctx.w.sc.panicked}`);
  }
  switch (cmd.type) {
    case 'CreateMachine':
      return yield* decideCreateMachine(ctx, cmd.config, cmd.totals);
    case 'Spawn':
      yield* decideSpawn(ctx, cmd);
      return;
    case 'Fork':
      yield* decideFork(ctx, cmd.pid, cmd.shareVm ?? false);
      return;
    case 'CloneThread':
      yield* decideCloneThread(ctx, cmd.pid);
      return;
    case 'Exit':
      return yield* decideExit(ctx, cmd.pid, cmd.code ?? 0, cmd.signal ?? 0);
    case 'Kill':
      return yield* decideKill(ctx, cmd.pid);
    case 'Wait':
      return decideWait(ctx, cmd.pid);
    case 'Syscall': {
      const call = normalizeSyscall(cmd.call);
      const { task, mm } = mustUserTask(ctx, cmd.pid);
      yield* decideSyscall(ctx, task, mm, call);
      return;
    }
    case 'Touch': {
      const { task } = mustUserTask(ctx, cmd.pid);
      checkRanges(cmd.writes);
      checkRanges(cmd.reads);
      const result: TouchResult = yield* faultIn(ctx, task.pid, touchSpans(cmd.writes, cmd.reads), { context: 'page-fault' });
      ctx.emit({ type: 'TouchCompleted', pid: cmd.pid, result });
      return;
    }
    case 'ReadFile': {
      const { task } = mustUserTask(ctx, cmd.pid);
      const result: TouchResult = yield* readFile(ctx, task.pid, cmd.file, cmd.offset, cmd.length);
      ctx.emit({ type: 'TouchCompleted', pid: cmd.pid, result });
      return;
    }
    case 'SetOomScoreAdj':
      decideSetOomScoreAdj(ctx, cmd);
      return;
    case 'SetNice':
      return decideSetNice(ctx, cmd.pid, cmd.nice);
    case 'SetRlimit':
      return decideSetRlimit(ctx, cmd.pid, cmd.resource, cmd.value);
    case 'AddCpuTime':
      return decideAddCpuTime(ctx, cmd.pid, cmd.utimeTicks, cmd.stimeTicks);
    case 'SetTaskStuck':
      return yield* decideSetTaskStuck(ctx, cmd.pid, cmd.stuck);
    case 'ReapOomVictim':
      return yield* decideReapOomVictim(ctx, cmd.pid);
    case 'SetSysctl':
      return yield* decideSetSysctl(ctx, cmd.name, cmd.value);
    case 'CreateCgroup':
      yield* decideCreateCgroup(ctx, cmd.path);
      return;
    case 'RemoveCgroup':
      return decideRemoveCgroup(ctx, cmd.path);
    case 'SetCgroupLimit':
      return yield* decideSetCgroupLimit(ctx, cmd);
    case 'MoveToCgroup':
      return decideMoveToCgroup(ctx, cmd.pid, cmd.path);
    case 'CreateFile':
      decideCreateFile(ctx, cmd.path, cmd.sizeBytes);
      return;
    case 'AdvanceTime':
      return yield* decideAdvanceTime(ctx, cmd.ns);
    default:
      return unreachable(cmd, 'vm command');
  }
}

function checkRanges(ranges: readonly { addr: number; length: number }[]): void {
  if (!Array.isArray(ranges)) throw invalid('vma.INVALID_ARGUMENT', 'writes and reads must be arrays');
  for (const r of ranges) {
    if (!Number.isSafeInteger(r.addr) || !Number.isSafeInteger(r.length) || r.addr < 0 || r.length < 0 || r.addr + r.length > 2 ** 47) {
      throw invalid('vma.INVALID_ARGUMENT', `bad range ${JSON.stringify(r)}: user addresses are below 2^47`);
    }
  }
}

/** A suspended decide() run, kept so that the re-run with one more answer resumes it. */
interface Continuation {
  readonly state: VmState;
  readonly version: number;
  readonly command: VmCommand;
  readonly answers: readonly unknown[];
  readonly ctx: Ctx;
  readonly gen: Step<void>;
  readonly pending: Ask;
}

function sameCommand(a: VmCommand, b: VmCommand): boolean {
  if (a === b) return true;
  const ka = Object.keys(a).filter((k) => k !== 'answers');
  const kb = Object.keys(b).filter((k) => k !== 'answers');
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const x = (a as unknown as Record<string, unknown>)[k];
    const y = (b as unknown as Record<string, unknown>)[k];
    if (x !== y && JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

function sameAnswers(had: readonly unknown[], now: readonly unknown[]): boolean {
  if (now.length !== had.length + 1) return false;
  for (let i = 0; i < had.length; i++) if (had[i] !== now[i] && JSON.stringify(had[i]) !== JSON.stringify(now[i])) return false;
  return true;
}

export interface VmAggregate extends Aggregate<VmCommand, VmEvent, VmState> {
  /** Version counter of a state (evolve bumps it): a suspended run is only resumed on the same version. */
  readonly versions: WeakMap<VmState, number>;
}

/** A vm aggregate (its own cache of suspended runs). */
export function createVm(): VmAggregate {
  const versions = new WeakMap<VmState, number>();
  let cont: Continuation | null = null;

  function drive(ctx: Ctx, gen: Step<void>, state: VmState, command: VmCommand, answers: readonly unknown[], used: number, first: IteratorResult<Ask, void>): VmEvent[] {
    let next = first;
    let i = used;
    while (!next.done) {
      if (i < answers.length) {
        next = gen.next(answers[i++]);
        continue;
      }
      cont = { state, version: versions.get(state) ?? 0, command, answers, ctx, gen, pending: next.value };
      throw new Need(next.value.service, next.value.request, i);
    }
    cont = null;
    return ctx.events;
  }

  return {
    service: 'vma',
    versions,
    initialState,
    decide(command: VmCommand, state: VmState): VmEvent[] {
      const answers = command.answers ?? [];
      const c = cont;
      if (c && c.state === state && c.version === (versions.get(state) ?? 0) && sameCommand(c.command, command) && sameAnswers(c.answers, answers)) {
        cont = null;
        try {
          return drive(c.ctx, c.gen, state, command, answers, answers.length, c.gen.next(answers[answers.length - 1]));
        } catch (e) {
          if (!isNeed(e)) cont = null;
          throw e;
        }
      }
      const ctx = new Ctx(state);
      const gen = run(ctx, command);
      try {
        return drive(ctx, gen, state, command, answers, 0, gen.next());
      } catch (e) {
        if (!isNeed(e)) cont = null;
        throw e;
      }
    },
    evolve(state: VmState, event: VmEvent): VmState {
      apply(World.base(state), event);
      versions.set(state, (versions.get(state) ?? 0) + 1);
      return state;
    },
    stateHash,
    answer(command: VmCommand, events: readonly VmEvent[]): unknown {
      return answerOf(command, events);
    },
  };
}

export function stateHash(state: VmState): string {
  const h = new StateHasher();
  const sc = state.sc;
  h.int(sc.clockNs).int(sc.aslr[0]).int(sc.aslr[1]).int(sc.aslr[2]).int(sc.aslr[3]);
  h.int(sc.nextPid).int(sc.nextSeq).int(sc.nextMmId).int(sc.nextFileId).int(sc.nextInode).int(sc.nextMemcg);
  h.int(sc.committed).int(sc.pgfault).int(sc.pgmajfault).int(sc.pgfaultZero).int(sc.pgfaultCow).int(sc.oomKills).str(sc.panicked);
  const y = sc.sysctl;
  h.int(y.overcommit_memory).int(y.overcommit_ratio).int(y.overcommit_kbytes).int(y.admin_reserve_kbytes).int(y.user_reserve_kbytes);
  h.int(y.min_free_kbytes).int(y.watermark_scale_factor).int(y.swappiness).int(y.panic_on_oom).int(y.oom_kill_allocating_task);
  h.int(sc.adminReserveKbytes).int(sc.userReserveKbytes);
  // The task list is in creation order (each task record hashes its seq), so the records say it.
  h.int(state.order.length);
  const m = state.machine;
  if (m) h.str(m.tenant).str(m.machine).str(m.profile).int(m.seed).int(m.totals.totalRamPages).int(m.totals.totalSwapPages);
  h.str(state.hash.digest());
  return h.digest();
}

/** What a caller gets back: a system call's result, a touch's result, a new pid, or the events. */
export function answerOf(command: VmCommand, events: readonly VmEvent[]): unknown {
  const failed = events.find((e) => e.type === 'CommandFailed');
  switch (command.type) {
    case 'Syscall': {
      const r = events.find((e) => e.type === 'SyscallReturned');
      return r && r.type === 'SyscallReturned' ? r.result : undefined;
    }
    case 'Touch':
    case 'ReadFile': {
      const r = events.find((e) => e.type === 'TouchCompleted');
      return r && r.type === 'TouchCompleted' ? r.result : undefined;
    }
    case 'Spawn': {
      if (failed && failed.type === 'CommandFailed') return -failed.errno;
      const r = events.find((e) => e.type === 'TaskSpawned');
      return r && r.type === 'TaskSpawned' ? r.task.pid : undefined;
    }
    case 'Fork': {
      if (failed && failed.type === 'CommandFailed') return -failed.errno;
      const r = events.find((e) => e.type === 'TaskForked');
      return r && r.type === 'TaskForked' ? r.task.pid : undefined;
    }
    case 'CloneThread': {
      if (failed && failed.type === 'CommandFailed') return -failed.errno;
      const r = events.find((e) => e.type === 'ThreadCloned');
      return r && r.type === 'ThreadCloned' ? r.task.pid : undefined;
    }
    case 'SetOomScoreAdj':
      return failed && failed.type === 'CommandFailed' ? -failed.errno : 0;
    case 'CreateFile': {
      const r = events.find((e) => e.type === 'FileCreated');
      return r && r.type === 'FileCreated' ? r.file.id : undefined;
    }
    case 'CreateCgroup': {
      const r = events.find((e) => e.type === 'CgroupCreated');
      return r && r.type === 'CgroupCreated' ? r.cgroup.id : undefined;
    }
    default:
      return events;
  }
}

export const vm = createVm();
