// The recorded workload: the commands clients sent (the roots), recovered from a machine's log.
//
// Every record is one decision of one service. A command's Needs are decided and appended
// before the command itself, so a root's records are: the records of everything it asked
// (frames, oom; for a heap call, vma and what vma asked) and then its own. Clients do not send
// request ids, so causes do not link records; the log's order does, for a client that sends one
// command at a time per machine (the SDK, the scenario runner, the CLI):
//  - a heap call's HeapCallCompleted lists the system calls and touches it asked vma for: the
//    last that many vma records before it are its own, with what they asked;
//  - any other vma record is a root (a client's Spawn, Syscall, Touch, AdvanceTime, Sysctl...),
//    with the frames and oom records just before it;
//  - oom records of SetPolicy (userspace killers) are roots;
//  - CreateMachine is the boot: frames' MachineBooted up to oom's OomInitialized.
// Each root's command is rebuilt from its events. Most are exact; a client's Touch is rebuilt
// from the pages it faulted (the touched range itself is not recorded), which is exact for a
// re-run of the same history and approximate once the history differs (see `approximate`).
import type { HeapCallCommand, HeapCallCompleted, HeapEvent, MemalignVariant } from '@mmsim/kernel/heap';
import type { OomCommand, OomEvent } from '@mmsim/kernel/oom';
import type { AddrRange } from '@mmsim/kernel';
import type { CapName, Rlimits, VmCommand, VmEvent } from '@mmsim/kernel/vm';
import type { DecodedLog, DecodedRecord } from './records.js';

export type RootCommand =
  | { readonly kind: 'boot' }
  /** creates: the pid the command made in the log (Spawn, Fork, CloneThread), to map it to the re-run's. */
  | { readonly kind: 'vma'; readonly command: VmCommand; readonly creates?: number }
  | { readonly kind: 'heap'; readonly command: HeapCallCommand; readonly recorded: HeapCallCompleted }
  | { readonly kind: 'oom'; readonly command: OomCommand }
  | { readonly kind: 'unrecovered'; readonly reason: string };

export interface Root {
  /** Position in the workload (0: the boot). */
  readonly index: number;
  /** The log span of the root and everything it caused. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly root: RootCommand;
  /** One line: "malloc(1048576) by pid 1003", "spawn postgres"... */
  readonly label: string;
  /** Why re-running it under a changed history may not be what the client would have done. */
  readonly approximate: string | null;
}

export interface Workload {
  readonly roots: readonly Root[];
  /** Heap calls whose vma records did not match what the call says it asked. */
  readonly warnings: readonly string[];
}

/** What the scan knows before each record: the clock, cgroups, files (commands name cgroups and files by path). */
interface Tracked {
  clockNs: number;
  readonly cgroups: Map<number, { path: string; max: number; high: number; swapMax: number; oomGroup: boolean }>;
  readonly files: Map<number, string>;
}

const has = (r: DecodedRecord, type: string): boolean => (r.events as readonly { type: string }[]).some((e) => e.type === type);
const first = <T extends { type: string }, K extends T['type']>(events: readonly T[], type: K): Extract<T, { type: K }> | undefined =>
  events.find((e) => e.type === type) as Extract<T, { type: K }> | undefined;

export function recoverWorkload(log: DecodedLog): Workload {
  const tracked: Tracked = { clockNs: 0, cgroups: new Map(), files: new Map() };
  // The command each vma record would be as a root, computed in log order (it needs what was tracked before it).
  const asRoot = new Map<DecodedRecord, { root: RootCommand; label: string; approximate: string | null }>();
  for (const r of log.records) {
    if (r.service === 'vma') asRoot.set(r, vmaRoot(r.events, tracked));
    if (r.service === 'vma') track(r.events, tracked);
  }

  const roots: Root[] = [];
  const warnings: string[] = [];
  const push = (records: readonly DecodedRecord[], root: RootCommand, label: string, approximate: string | null = null): void => {
    roots.push({ index: roots.length, firstSeq: records[0].firstSeq, lastSeq: records[records.length - 1].lastSeq, root, label, approximate });
  };
  /** Extends the last root over records that belong to it (trailing echoes). */
  const extend = (records: readonly DecodedRecord[]): void => {
    const last = roots.pop();
    if (!last) {
      push(records, { kind: 'unrecovered', reason: 'records before any command' }, 'records before any command');
      return;
    }
    roots.push({ ...last, lastSeq: records[records.length - 1].lastSeq });
  };
  /** Open records: each vma record with the non-vma records before it is a root. */
  const flush = (open: readonly DecodedRecord[]): void => {
    let group: DecodedRecord[] = [];
    for (const r of open) {
      group.push(r);
      if (r.service !== 'vma') continue;
      const c = readFileOf(group, asRoot.get(r)!);
      push(group, c.root, c.label, c.approximate);
      group = [];
    }
    if (group.length) extend(group);
  };

  let open: DecodedRecord[] = [];
  let booting: DecodedRecord[] | null = null;
  for (const r of log.records) {
    if (booting) {
      booting.push(r);
      if (r.service === 'oom' && has(r, 'OomInitialized')) {
        push(booting, { kind: 'boot' }, 'boot the machine');
        booting = null;
      }
      continue;
    }
    if (r.service === 'frames' && has(r, 'MachineBooted')) {
      flush(open);
      open = [];
      booting = [r];
      continue;
    }
    if (r.service === 'oom') {
      const cmd = oomRoot(r.events);
      if (cmd) {
        flush(open);
        open = [];
        push([r], { kind: 'oom', command: cmd }, `oom ${cmd.type}${'kind' in cmd ? ` ${cmd.kind}` : ''}`);
        continue;
      }
      if (open.length === 0 && isSysctlEcho(r) && lastIsSysctl(roots)) {
        extend([r]); // logs written before MachineService.Sysctl stopped telling the owner twice
        continue;
      }
    }
    if (r.service === 'frames' && open.length === 0 && isSysctlEcho(r) && lastIsSysctl(roots)) {
      extend([r]);
      continue;
    }
    if (r.service === 'heap') {
      const done = first(r.events, 'HeapCallCompleted');
      if (done) {
        const asked = done.syscalls.length + done.touches.length;
        // The last `asked` vma records of the open ones are the call's; what they asked sits before them.
        let cut = open.length;
        let found = 0;
        while (found < asked && cut > 0) if (open[--cut].service === 'vma') found++;
        if (found < asked) warnings.push(`seq ${r.firstSeq}: ${done.call} asked vma ${asked} times but only ${found} vma records precede it`);
        else checkClaimed(open.slice(cut), done, r.firstSeq, warnings);
        while (cut > 0 && open[cut - 1].service !== 'vma') cut--;
        flush(open.slice(0, cut));
        push([...open.slice(cut), r], { kind: 'heap', command: heapCommand(done), recorded: done }, heapLabel(done));
        open = [];
        continue;
      }
      // HeapForgotten after the call that ended the process belongs to that call.
      if (open.length === 0 && roots.length && roots[roots.length - 1].root.kind === 'heap') {
        extend([r]);
        continue;
      }
    }
    open.push(r);
  }
  if (booting) push(booting, { kind: 'boot' }, 'boot the machine (unfinished)');
  flush(open);
  return { roots, warnings };
}

/**
 * read(2) (vm's ReadFile) ends in TouchCompleted like a touch, but faults nothing in: its pages
 * are the page-cache reads (FilePagesFaulted with `read`) frames recorded just before it.
 */
function readFileOf(group: readonly DecodedRecord[], c: { root: RootCommand; label: string; approximate: string | null }): { root: RootCommand; label: string; approximate: string | null } {
  if (c.root.kind !== 'vma' || c.root.command.type !== 'Touch' || c.root.command.writes.length || c.root.command.reads.length) return c;
  let file = -1;
  let first = Infinity;
  let end = -Infinity;
  for (const r of group) {
    if (r.service !== 'frames') continue;
    for (const e of r.events) {
      if (e.type !== 'FilePagesFaulted' || !e.read) continue;
      if (file !== -1 && e.file !== file) return c;
      file = e.file;
      first = Math.min(first, e.index);
      end = Math.max(end, e.index + e.count);
    }
  }
  if (file === -1) return c;
  const pid = c.root.command.pid;
  return {
    root: { kind: 'vma', command: { type: 'ReadFile', pid, file, offset: first * 4096, length: (end - first) * 4096 } },
    label: `read ${end - first} pages of file ${file} by pid ${pid}`,
    approximate: 'a read(2) is rebuilt from the page-cache pages it read: pages already cached are not read again',
  };
}

function lastIsSysctl(roots: readonly Root[]): boolean {
  const last = roots[roots.length - 1]?.root;
  return last?.kind === 'vma' && last.command.type === 'SetSysctl';
}

function isSysctlEcho(r: DecodedRecord): boolean {
  if (r.service === 'frames') return r.events.every((e) => e.type === 'SysctlSet');
  if (r.service === 'oom') return r.events.every((e) => e.type === 'PolicySet' && e.sysctl !== null);
  return false;
}

/** A heap call's vma records must answer its requests in order: syscalls with SyscallReturned, touches with TouchCompleted. */
function checkClaimed(records: readonly DecodedRecord[], done: HeapCallCompleted, seq: number, warnings: string[]): void {
  const asked = [...done.syscalls.map((s) => ({ seq: s.seq, what: 'SyscallReturned' })), ...done.touches.map((t) => ({ seq: t.seq, what: 'TouchCompleted' }))].sort((a, b) => a.seq - b.seq);
  const vma = records.filter((r) => r.service === 'vma');
  for (let i = 0; i < asked.length; i++) {
    if (!has(vma[i], asked[i].what)) {
      warnings.push(`seq ${seq}: ${done.call}'s request ${i} should be answered by ${asked[i].what}, but vma's record at seq ${vma[i].firstSeq} is not`);
      return;
    }
  }
}

function track(events: readonly VmEvent[], t: Tracked): void {
  for (const e of events) {
    switch (e.type) {
      case 'ClockAdvanced':
        t.clockNs = e.nowNs;
        break;
      case 'CgroupCreated':
        t.cgroups.set(e.cgroup.id, { path: e.cgroup.path, max: e.cgroup.max, high: e.cgroup.high, swapMax: e.cgroup.swapMax, oomGroup: e.cgroup.oomGroup });
        break;
      case 'CgroupLimitSet': {
        const c = t.cgroups.get(e.id);
        if (c) t.cgroups.set(e.id, { ...c, max: e.max, high: e.high, swapMax: e.swapMax, oomGroup: e.oomGroup });
        break;
      }
      case 'FileCreated':
        t.files.set(e.file.id, e.file.path);
        break;
      case 'VmaMapped':
        if (e.shmem) t.files.set(e.shmem.id, e.shmem.path);
        break;
      default:
        break;
    }
  }
}

const CAPS: readonly [keyof import('@mmsim/kernel/vm').Caps, CapName][] = [
  ['sysAdmin', 'CAP_SYS_ADMIN'],
  ['sysResource', 'CAP_SYS_RESOURCE'],
  ['sysRawio', 'CAP_SYS_RAWIO'],
  ['ipcLock', 'CAP_IPC_LOCK'],
];

/** The client command a vma record is the outcome of. `t` is what was known before the record. */
function vmaRoot(events: readonly VmEvent[], t: Tracked): { root: RootCommand; label: string; approximate: string | null } {
  const vma = (command: VmCommand, label: string, approximate: string | null = null, creates?: number) => ({
    root: { kind: 'vma' as const, command, ...(creates !== undefined ? { creates } : {}) },
    label,
    approximate,
  });
  const touched = first(events, 'TouchCompleted');
  if (touched) {
    // The touched range is not recorded: the pages it faulted are (already present pages fault nothing, and change nothing).
    const writes: AddrRange[] = [];
    const reads: AddrRange[] = [];
    for (const e of events) {
      if (e.type !== 'PagesFaulted' || e.pid !== touched.pid) continue;
      for (let i = 0; i + 1 < e.vpns.length; i += 2) (e.write ? writes : reads).push({ addr: e.vpns[i] * 4096, length: e.vpns[i + 1] * 4096 });
    }
    const r = touched.result;
    if (!r.ok && r.addr > 0) writes.push({ addr: Math.floor(r.addr / 4096) * 4096, length: 4096 });
    const pages = [...writes, ...reads].reduce((n, x) => n + x.length / 4096, 0);
    return vma(
      { type: 'Touch', pid: touched.pid, writes: merge(writes), reads: merge(reads) },
      `touch ${pages} pages by pid ${touched.pid}`,
      r.ok ? 'a touch is rebuilt from the pages it faulted: pages it found present are not touched again' : 'a touch that did not complete is rebuilt from the pages it faulted before it stopped',
    );
  }
  const sys = first(events, 'SyscallReturned');
  if (sys) return vma({ type: 'Syscall', pid: sys.pid, call: sys.call }, `${sys.call.nr} by pid ${sys.pid}`);
  const clock = events.filter((e): e is Extract<VmEvent, { type: 'ClockAdvanced' }> => e.type === 'ClockAdvanced');
  if (clock.length) {
    const ns = clock[clock.length - 1].nowNs - t.clockNs;
    return vma({ type: 'AdvanceTime', ns }, `advance time ${ns / 1e6} ms`);
  }
  const spawned = first(events, 'TaskSpawned');
  if (spawned && !first(events, 'MachineCreated')) {
    const task = spawned.task;
    const files = new Map(t.files);
    for (const e of events) if (e.type === 'FileCreated') files.set(e.file.id, e.file.path);
    const program = spawned.vmas.map((v) => files.get(v.file) ?? '').find((p) => p.startsWith('/usr/bin/'));
    const name = program ? program.slice('/usr/bin/'.length) : task.name;
    const rlimits: Partial<Rlimits> = { ...task.rlimits };
    const cg = t.cgroups.get(task.memcg);
    return vma(
      {
        type: 'Spawn',
        name,
        parent: task.ppid === 0 ? undefined : task.ppid,
        uid: task.uid,
        euid: task.euid,
        nice: task.nice,
        oomScoreAdj: task.oomScoreAdj,
        rlimits,
        caps: CAPS.filter(([k]) => task.caps[k]).map(([, n]) => n),
        cgroup: task.memcg === 0 || !cg ? undefined : cg.path,
        env: task.env,
        // ASLR draws the break either way; giving the recorded one keeps it whatever the client gave.
        brkStart: spawned.layout?.startBrk,
      },
      `spawn ${name} (pid ${task.pid})`,
      null,
      task.pid,
    );
  }
  const forked = first(events, 'TaskForked');
  if (forked) return vma({ type: 'Fork', pid: forked.parent, shareVm: forked.shareVm }, `fork of pid ${forked.parent}`, null, forked.task.pid);
  const cloned = first(events, 'ThreadCloned');
  if (cloned) return vma({ type: 'CloneThread', pid: cloned.task.tgid }, `thread of pid ${cloned.task.tgid}`, null, cloned.task.pid);
  const sysctl = first(events, 'SysctlSet');
  if (sysctl) return vma({ type: 'SetSysctl', name: sysctl.name, value: sysctl.value }, `sysctl vm.${sysctl.name}=${sysctl.value}`);
  const adj = first(events, 'OomScoreAdjSet');
  if (adj) {
    const legacy = adj.legacyWritten !== null;
    return vma({ type: 'SetOomScoreAdj', pid: adj.pids[0], value: legacy ? (adj.legacyWritten as number) : adj.value, legacy }, `${legacy ? 'oom_adj' : 'oom_score_adj'} of pid ${adj.pids[0]}`);
  }
  const nice = first(events, 'NiceSet');
  if (nice) return vma({ type: 'SetNice', pid: nice.pid, nice: nice.nice }, `nice of pid ${nice.pid}`);
  const rl = first(events, 'RlimitSet');
  if (rl) return vma({ type: 'SetRlimit', pid: rl.pid, resource: rl.resource, value: rl.value }, `rlimit ${rl.resource} of pid ${rl.pid}`);
  const cpu = first(events, 'CpuTimeAdded');
  if (cpu) return vma({ type: 'AddCpuTime', pid: cpu.pid, utimeTicks: cpu.utimeTicks, stimeTicks: cpu.stimeTicks }, `cpu time of pid ${cpu.pid}`);
  const stuck = first(events, 'TaskStuckSet');
  if (stuck) return vma({ type: 'SetTaskStuck', pid: stuck.pid, stuck: stuck.stuck }, `pid ${stuck.pid} ${stuck.stuck ? 'stuck' : 'unstuck'}`);
  const created = first(events, 'CgroupCreated');
  if (created) return vma({ type: 'CreateCgroup', path: created.cgroup.path }, `mkdir ${created.cgroup.path}`);
  const limit = first(events, 'CgroupLimitSet');
  if (limit) {
    const before = t.cgroups.get(limit.id);
    const path = before?.path ?? '';
    const changed: { max?: number; high?: number; swapMax?: number; oomGroup?: boolean } = {};
    if (!before || before.max !== limit.max) changed.max = limit.max;
    if (before && before.high !== limit.high) changed.high = limit.high;
    if (before && before.swapMax !== limit.swapMax) changed.swapMax = limit.swapMax;
    if (before && before.oomGroup !== limit.oomGroup) changed.oomGroup = limit.oomGroup;
    if (Object.keys(changed).length === 0) changed.max = limit.max; // the same value written again
    const what = Object.entries(changed).map(([k, v]) => `${k}=${String(v)}`).join(' ');
    return vma({ type: 'SetCgroupLimit', path, ...changed }, `cgroup ${path} ${what}`);
  }
  const removed = first(events, 'CgroupRemoved');
  if (removed) {
    const path = t.cgroups.get(removed.id)?.path ?? '';
    return vma({ type: 'RemoveCgroup', path }, `rmdir ${path}`);
  }
  const moved = events[0]?.type === 'TaskMoved' ? (events[0] as Extract<VmEvent, { type: 'TaskMoved' }>) : undefined;
  if (moved) {
    const path = moved.memcg === 0 ? '/' : (t.cgroups.get(moved.memcg)?.path ?? '/');
    return vma({ type: 'MoveToCgroup', pid: moved.pid, path }, `move pid ${moved.pid} to ${path}`);
  }
  const file = events.length === 1 && events[0].type === 'FileCreated' ? events[0] : undefined;
  if (file) return vma({ type: 'CreateFile', path: file.file.path, sizeBytes: file.file.sizeBytes }, `create ${file.file.path}`);
  const ended = events.find((e): e is Extract<VmEvent, { type: 'TaskExited' | 'KillPending' }> => (e.type === 'TaskExited' || e.type === 'KillPending') && !e.oomVictim);
  if (ended?.type === 'TaskExited' && ended.signal === 0) return vma({ type: 'Exit', pid: ended.pid, code: ended.code }, `exit of pid ${ended.pid}`);
  if (ended) return vma({ type: 'Kill', pid: ended.pid }, `kill pid ${ended.pid}`);
  const failed = first(events, 'CommandFailed');
  if (failed?.command === 'Fork') return vma({ type: 'Fork', pid: failed.pid }, `fork of pid ${failed.pid} (failed)`);
  if (failed) return { root: { kind: 'unrecovered', reason: `a failed ${failed.command} does not record its arguments` }, label: `${failed.command} (failed)`, approximate: null };
  return { root: { kind: 'unrecovered', reason: `no client command makes ${events.map((e) => e.type).join(', ')}` }, label: events[0]?.type ?? 'empty record', approximate: null };
}

/** Sorted, merged page ranges. */
function merge(ranges: readonly AddrRange[]): AddrRange[] {
  const sorted = [...ranges].sort((a, b) => a.addr - b.addr);
  const out: AddrRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.addr + last.length >= r.addr) out[out.length - 1] = { addr: last.addr, length: Math.max(last.length, r.addr + r.length - last.addr) };
    else out.push(r);
  }
  return out;
}

/** The oom command a record is the outcome of, when a client sent it (OomService.SetPolicy). */
function oomRoot(events: readonly OomEvent[]): OomCommand | undefined {
  const e = events[0];
  if (!e || events.length !== 1) return undefined;
  if (e.type === 'UserspaceKillerEnabled') {
    const { kind, ...options } = e.options;
    return { type: 'EnableUserspaceKiller', kind, options };
  }
  if (e.type === 'UserspaceKillerDisabled') return { type: 'DisableUserspaceKiller', kind: e.kind };
  if (e.type === 'PolicySet' && e.sysctl === null) return { type: 'SetPolicy', panicOnOom: e.policy.panicOnOom, oomKillAllocatingTask: e.policy.oomKillAllocatingTask };
  return undefined;
}

export function heapCommand(e: HeapCallCompleted): HeapCallCommand {
  const base = { pid: e.pid, tid: e.tid };
  const a = e.args;
  switch (e.call) {
    case 'malloc':
      return { type: 'Malloc', ...base, size: a[0] };
    case 'free':
      return { type: 'Free', ...base, ptr: a[0] };
    case 'calloc':
      return { type: 'Calloc', ...base, nmemb: a[0], size: a[1] };
    case 'realloc':
      return { type: 'Realloc', ...base, ptr: a[0], size: a[1] };
    case 'memalign':
    case 'aligned_alloc':
    case 'posix_memalign':
      return { type: 'Memalign', ...base, variant: e.call, alignment: a[0], size: a[1] };
    case 'valloc':
    case 'pvalloc':
      return { type: 'Memalign', ...base, variant: e.call as MemalignVariant, alignment: 0, size: a[0] };
    case 'mallopt':
      return { type: 'Mallopt', ...base, param: a[0], value: a[1] };
    case 'malloc_trim':
      return { type: 'MallocTrim', ...base, pad: a[0] };
    case 'malloc_usable_size':
      return { type: 'MallocUsableSize', ...base, ptr: a[0] };
    case 'mallinfo2':
      return { type: 'Mallinfo2', ...base };
    case 'malloc_stats':
      return { type: 'MallocStats', ...base };
    case 'write':
      return { type: 'Write', ...base, ptr: a[0], offset: a[1], len: a[2], byte: a[3] };
    case 'thread_exit':
      return { type: 'ThreadExit', ...base };
  }
}

export function heapLabel(e: Pick<HeapCallCompleted, 'call' | 'args' | 'pid'>): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const args = e.call === 'free' || e.call === 'malloc_usable_size' ? [hex(e.args[0])] : e.call === 'realloc' ? [hex(e.args[0]), String(e.args[1])] : e.call === 'write' ? [hex(e.args[0]), String(e.args[1]), String(e.args[2])] : e.args.map(String);
  return `${e.call}(${args.join(', ')}) by pid ${e.pid}`;
}

export type { HeapEvent };
