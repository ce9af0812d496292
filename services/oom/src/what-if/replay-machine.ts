// A machine rebuilt from its log and driven in this process: the four aggregates in an
// InProcessMachine, each command handled the way the services handle it (frames answers reads
// without events and its events as the answer; the heap service takes a process on at its
// first call and forgets it when it is gone; a rejection writes nothing). Replaying the same
// roots on it gives the same events and state hashes as the services did; a what-if changes
// a setting on it first.
import { InProcessMachine, isRejection, type Aggregate, type ServiceName } from '@mmsim/kernel';
import { frames, isFramesQuery, queryFrames, type FramesState } from '@mmsim/kernel/frames';
import { heap, type HeapCallCommand, type HeapCallResult, type HeapState } from '@mmsim/kernel/heap';
import { oom, type OomState } from '@mmsim/kernel/oom';
import { commitLimit, committedPages, createVm, mappedFilePages, mmOf, taskOf, vmCounters, type VmAggregate, type VmCommand, type VmEvent, type VmState } from '@mmsim/kernel/vm';
import { meminfoInput, renderMeminfo } from '@mmsim/kernel/procfs';
import type { DecodedLog } from './records.js';
import type { Root } from './workload.js';

type AnyAggregate = Aggregate<unknown, unknown, unknown>;

export interface MachineStates {
  readonly vma: VmState;
  readonly frames: FramesState;
  readonly oom: OomState;
  readonly heap: HeapState;
}

/** What one root did on the machine. */
export interface StepOutcome {
  readonly root: Root;
  /** ran: handled; skipped: the service would have refused it before deciding (process gone); rejected: decide() refused it. */
  readonly status: 'ran' | 'skipped' | 'rejected' | 'not-recovered';
  readonly note: string;
  /** Every command's events, innermost first (the order the log keeps). */
  readonly events: readonly { readonly service: ServiceName; readonly events: readonly unknown[] }[];
  /** The answer the client got (a heap call's result, a system call's return value, a pid...). */
  readonly result: unknown;
}

/** Rebuilds the four aggregates by evolve() over the log's records before `beforeSeq`. */
export function rebuildStates(log: DecodedLog, beforeSeq: number, vm: VmAggregate): { states: MachineStates; hashes: Partial<Record<ServiceName, { seq: number; recorded: string; got: string }>> } {
  const aggs: Record<ServiceName, AnyAggregate> = {
    vma: vm as unknown as AnyAggregate,
    frames: frames as unknown as AnyAggregate,
    oom: oom as unknown as AnyAggregate,
    heap: heap as unknown as AnyAggregate,
  };
  const states: Record<ServiceName, unknown> = { vma: vm.initialState(), frames: frames.initialState(), oom: oom.initialState(), heap: heap.initialState() };
  const lastHash: Partial<Record<ServiceName, { seq: number; recorded: string }>> = {};
  for (const r of log.records) {
    if (r.lastSeq >= beforeSeq) break;
    const agg = aggs[r.service];
    let s = states[r.service];
    for (const env of r.envelopes) s = agg.evolve(s, env.event);
    states[r.service] = s;
    const last = r.envelopes[r.envelopes.length - 1];
    lastHash[r.service] = { seq: last.seq, recorded: last.stateHash };
  }
  const hashes: Partial<Record<ServiceName, { seq: number; recorded: string; got: string }>> = {};
  for (const svc of Object.keys(lastHash) as ServiceName[]) hashes[svc] = { ...lastHash[svc]!, got: aggs[svc].stateHash(states[svc]) };
  return { states: states as unknown as MachineStates, hashes };
}

/** frames as its service serves it: reads answered from the state, commands answered with their events. */
function framesAsServed(state: FramesState): AnyAggregate {
  const f = frames as unknown as AnyAggregate;
  return {
    ...f,
    initialState: () => state,
    decide: (c: unknown, s: unknown) => (isFramesQuery(c) ? [] : f.decide(c, s)),
    answer: (c: unknown, events: readonly unknown[], s: unknown) => (isFramesQuery(c) ? queryFrames(s as FramesState, c) : events),
  };
}

const ALLOCATING = new Set(['malloc', 'calloc', 'realloc', 'memalign', 'aligned_alloc', 'posix_memalign', 'valloc', 'pvalloc']);

export class ReplayMachine {
  private readonly m: InProcessMachine;
  private sink: { service: ServiceName; events: readonly unknown[] }[] = [];
  /** pid in the log -> pid here (they differ only when a spawn or fork went otherwise). */
  private readonly pids = new Map<number, number>();
  /** "pid:address in the log" -> the address the same allocation got here (0: it failed here). */
  private readonly ptrs = new Map<string, number>();
  /** Processes that ended in this run (the task may be reaped and gone from the state): name and how. */
  private readonly ended = new Map<number, string>();
  private readonly names = new Map<number, string>();

  constructor(states: MachineStates, vm: VmAggregate) {
    const withState = (a: AnyAggregate, s: unknown): AnyAggregate => ({ ...a, initialState: () => s });
    this.m = new InProcessMachine(
      {
        vma: withState(vm as unknown as AnyAggregate, states.vma),
        frames: framesAsServed(states.frames),
        oom: withState(oom as unknown as AnyAggregate, states.oom),
        heap: withState(heap as unknown as AnyAggregate, states.heap),
      },
      { onEvents: (service, events) => void this.sink.push({ service, events }) },
    );
    for (const t of states.vma.tasks.values()) this.names.set(t.pid, t.name);
  }

  /** Remembers names and endings from a step's vm events. */
  private note(): void {
    for (const b of this.sink) {
      if (b.service !== 'vma') continue;
      for (const e of b.events as VmEvent[]) {
        if (e.type === 'TaskSpawned' || e.type === 'TaskForked' || e.type === 'ThreadCloned') this.names.set(e.task.pid, e.task.name);
        if (e.type === 'TaskExited') {
          const how = e.oomVictim ? 'killed by the OOM killer' : e.signal ? `killed by signal ${e.signal}` : `exited ${e.code}`;
          this.ended.set(e.pid, `process ${e.pid} (${this.names.get(e.pid) ?? '?'}) is gone: ${how}`);
        }
      }
    }
  }

  state<S>(service: ServiceName): S {
    return this.m.state<S>(service);
  }

  get vm(): VmState {
    return this.m.state<VmState>('vma');
  }

  /** The machine's state hash per aggregate. */
  hashes(vm: VmAggregate): Record<ServiceName, string> {
    return {
      frames: frames.stateHash(this.m.state<FramesState>('frames')),
      vma: vm.stateHash(this.vm),
      oom: oom.stateHash(this.m.state<OomState>('oom')),
      heap: heap.stateHash(this.m.state<HeapState>('heap')),
    };
  }

  /** /proc/meminfo as the frames service renders it. */
  meminfo(): string {
    const s = this.vm;
    const c = vmCounters(s);
    const f = this.m.state<FramesState>('frames');
    return renderMeminfo(meminfoInput(f, { committedAsPages: committedPages(s), commitLimitPages: commitLimit(s), mappedPages: mappedFilePages(s), pgfault: c.pgfault, pgmajfault: c.pgmajfault }), s.machine!.profile);
  }

  /** A command on the machine outside the recorded workload (a what-if's change). */
  command(service: ServiceName, command: unknown): { events: readonly { service: ServiceName; events: readonly unknown[] }[]; answer: unknown } {
    this.sink = [];
    const r = this.m.handle(service, command);
    return { events: this.sink, answer: r.answer };
  }

  private pid(p: number): number {
    return this.pids.get(p) ?? p;
  }

  private ptr(pid: number, p: number): number {
    if (p === 0) return 0;
    const v = this.ptrs.get(`${pid}:${p}`);
    return v === undefined ? p : v;
  }

  run(root: Root): StepOutcome {
    this.sink = [];
    const done = (status: StepOutcome['status'], note: string, result: unknown = undefined): StepOutcome => {
      this.note();
      return { root, status, note, events: this.sink, result };
    };
    const r = root.root;
    try {
      switch (r.kind) {
        case 'boot':
          return done('skipped', 'the machine is booted already');
        case 'unrecovered':
          return done('not-recovered', r.reason);
        case 'oom':
          return done('ran', '', this.m.handle('oom', r.command).answer);
        case 'vma': {
          const cmd = this.mapVma(r.command);
          const answer = this.m.handle('vma', cmd).answer;
          if (r.creates !== undefined && typeof answer === 'number' && answer > 0 && answer !== r.creates) this.pids.set(r.creates, answer);
          return done('ran', '', answer);
        }
        case 'heap':
          return this.heapCall(root, r.command, r.recorded.result, done);
      }
    } catch (e) {
      if (!isRejection(e)) throw e;
      const pid = r.kind === 'vma' && 'pid' in r.command ? this.pid(r.command.pid) : -1;
      return done('rejected', this.ended.get(pid) ?? `${e.code}: ${e.message}`);
    }
  }

  private mapVma(c: VmCommand): VmCommand {
    const p = (x: number) => this.pid(x);
    switch (c.type) {
      case 'Spawn':
        return c.parent === undefined ? c : { ...c, parent: p(c.parent) };
      case 'Fork':
      case 'CloneThread':
      case 'Exit':
      case 'Kill':
      case 'Wait':
      case 'Syscall':
      case 'Touch':
      case 'ReadFile':
      case 'SetNice':
      case 'SetRlimit':
      case 'AddCpuTime':
      case 'SetTaskStuck':
      case 'ReapOomVictim':
      case 'MoveToCgroup':
        return { ...c, pid: p(c.pid) };
      case 'SetOomScoreAdj':
        return { ...c, pid: p(c.pid), ...(c.writer !== undefined ? { writer: p(c.writer) } : {}) };
      default:
        return c;
    }
  }

  /** services/heap: ensure the process (CreateHeap at its first call, ForgetProcess when gone), call, forget it if the call ended it. */
  private heapCall(root: Root, recordedCmd: HeapCallCommand, recorded: HeapCallResult, done: (s: StepOutcome['status'], note: string, result?: unknown) => StepOutcome): StepOutcome {
    const pid = this.pid(recordedCmd.pid);
    const vm = this.vm;
    const t = taskOf(vm, pid);
    const heapState = this.m.state<HeapState>('heap');
    // A process that is gone is the reason first: a call after the allocation it died in has no
    // pointer either, but it is skipped because nobody is left to make it.
    if (!vm.machine || !t || t.isKthread) return done('skipped', this.ended.get(pid) ?? `no process ${pid}`);
    const alive = t.state !== 'dead' && t.state !== 'zombie' && !!mmOf(vm, pid);
    if (!alive) {
      const exit = t.oomVictim ? 'killed by the OOM killer (SIGKILL)' : t.exitSignal ? `killed by signal ${t.exitSignal}` : `exited ${t.exitCode}`;
      if (heapState.procs.has(pid)) this.m.handle('heap', { type: 'ForgetProcess', pid, reason: exit });
      return done('skipped', `process ${pid} (${t.name}) is gone: ${exit}`);
    }
    const cmd = this.mapHeap(recordedCmd, pid);
    if (cmd === null) return done('skipped', 'its pointer came from an allocation that failed here (a program checks malloc\'s result)');
    if (!heapState.procs.has(pid)) {
      this.m.handle('heap', { type: 'CreateHeap', pid, brkStart: mmOf(vm, pid)!.startBrk, env: t.env, cpus: vm.machine.cpus, overcommitMemory: vm.sc.sysctl.overcommit_memory });
    }
    const result = this.m.handle('heap', cmd).answer as HeapCallResult | undefined;
    if (result && (result.kind === 'aborted' || result.kind === 'crashed' || result.kind === 'hung' || result.kind === 'killed') && this.m.state<HeapState>('heap').procs.has(pid)) {
      this.m.handle('heap', { type: 'ForgetProcess', pid, reason: result.kind });
    }
    if (recorded.kind === 'pointer' && recorded.value !== 0 && result?.kind === 'pointer') this.ptrs.set(`${recordedCmd.pid}:${recorded.value}`, result.value);
    else if (recorded.kind === 'pointer' && recorded.value !== 0) this.ptrs.set(`${recordedCmd.pid}:${recorded.value}`, 0);
    return done('ran', '', result);
  }

  /** The call with this run's pid and addresses; null when its pointer is an allocation that failed here. */
  private mapHeap(c: HeapCallCommand, pid: number): HeapCallCommand | null {
    const tid = c.tid === c.pid ? pid : this.pid(c.tid);
    switch (c.type) {
      case 'Free':
      case 'Realloc':
      case 'MallocUsableSize':
        return { ...c, pid, tid, ptr: this.ptr(c.pid, c.ptr) };
      case 'Write': {
        const p = this.ptr(c.pid, c.ptr);
        return p === 0 && c.ptr !== 0 ? null : { ...c, pid, tid, ptr: p };
      }
      default:
        return { ...c, pid, tid };
    }
  }
}

/** Whether a heap call's result is a failed allocation (NULL from a call that asked for memory). */
export function isFailedAllocation(call: string, args: readonly number[], result: HeapCallResult | undefined): boolean {
  if (!result || result.kind !== 'pointer' || result.value !== 0 || !ALLOCATING.has(call)) return false;
  const size = call === 'calloc' ? args[0] * args[1] : call === 'realloc' || call === 'memalign' || call === 'aligned_alloc' || call === 'posix_memalign' ? args[1] : args[0];
  return size > 0;
}

export function newVm(): VmAggregate {
  return createVm();
}
