// VmaService: processes and their memory system calls. One line of conversion per method;
// the decisions are the vm aggregate's.
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { big, machineOf, num, pidOf, requestId, unary, type GrpcServiceRegistration, type MachineRefLike } from '@mmsim/grpc';
import { busAsk, type AggregateHost } from '@mmsim/host';
import { invalid, notFound, pageCounterMemparse, SYSCALL_KILLED, type AddrRange } from '@mmsim/kernel';
import { cgroupMemoryFiles, fileIdByPath, isMapped, mmOf, residentPages, taskOf, tasksInOrder, type CapName, type Rlimits, type SpawnSpec, type VmCommand, type VmEvent, type VmState, type VmSyscall } from '@mmsim/kernel/vm';
import type { MemcgFigures } from '@mmsim/kernel/frames';
import type { Bus } from '@mmsim/bus';
import { VmaServiceService, type Rlimit, type SyscallRequest, type TaskInfo, type VmaServiceServer } from '@mmsim/proto';
import { requireMachine } from '../queries.js';
import { taskInfo, threadCounts } from './convert.js';
import { errnoName } from './errno.js';

type VmaHost = AggregateHost<VmCommand, VmEvent, VmState>;
type Call<Req> = ServerUnaryCall<Req, unknown>;

const RLIMITS: Readonly<Record<string, keyof Rlimits>> = { RLIMIT_AS: 'as', RLIMIT_DATA: 'data', RLIMIT_STACK: 'stack', RLIMIT_MEMLOCK: 'memlock' };
const CAPS: readonly CapName[] = ['CAP_SYS_ADMIN', 'CAP_SYS_RESOURCE', 'CAP_SYS_RAWIO', 'CAP_IPC_LOCK'];
const UNLIMITED = Number.MAX_SAFE_INTEGER;
const NAME = /^[\x20-\x7e]{1,64}$/;

function rlimitOf(r: Rlimit): [keyof Rlimits, number] {
  const key = RLIMITS[r.resource];
  if (!key) throw invalid('vma.INVALID_RLIMIT', `unknown rlimit "${r.resource}" (known: ${Object.keys(RLIMITS).join(', ')})`);
  const v = r.soft < 0n ? UNLIMITED : num(r.soft, `${r.resource} soft limit`);
  return [key, v];
}

/** The machine named by the request, which must exist. */
function existing(host: VmaHost, call: Call<unknown>, ref: MachineRefLike | undefined): MachineRefLike {
  const m = machineOf(call, ref);
  host.query(m, (s) => requireMachine(s, m.machine));
  return m;
}

/**
 * An unsigned long argument (an address, a length, an offset) as the kernel reads the int64
 * the caller sent: -4096 is 2^64 - 4096, a valid call the kernel answers ENOMEM. The model holds
 * these as doubles: a value no double holds exactly (brk(-1): 2^64 - 1) is refused as a bad
 * call rather than run as a neighbouring value.
 */
function ulong(x: bigint, what: string): number {
  const u = x < 0n ? x + 2n ** 64n : x;
  const n = Number(u);
  if (BigInt(n) !== u) throw invalid('vma.ARG_BEYOND_MODEL', `${what} = ${x} (${u} as the kernel's unsigned long) is not a value the model holds exactly: give one below 2^53`);
  return n;
}

/** An int argument the kernel reads as unsigned (prot, flags, advice): -1 is 0xffffffff. */
function uint(x: bigint, what: string): number {
  if (x < -(2n ** 31n) || x >= 2n ** 32n) throw invalid('vma.INVALID_ARGUMENT', `${what} = ${x} does not fit a C int`);
  return Number(x < 0n ? x + 2n ** 32n : x);
}

/** A file descriptor (int). */
function fdArg(x: bigint | undefined): number {
  if (x === undefined) return -1;
  if (x < -(2n ** 31n) || x >= 2n ** 31n) throw invalid('vma.INVALID_ARGUMENT', `mmap fd = ${x} does not fit a C int`);
  return Number(x);
}

function syscallOf(req: SyscallRequest, fd: number): VmSyscall {
  const a = req.args;
  const need = (n: number): void => {
    if (a.length < n) throw invalid('vma.INVALID_ARGUMENT', `${req.nr} takes ${n} arguments, got ${a.length}`);
  };
  const ul = (i: number, name: string): number => ulong(a[i], `${req.nr} ${name}`);
  const ui = (i: number, name: string): number => uint(a[i], `${req.nr} ${name}`);
  switch (req.nr) {
    case 'brk':
      need(1);
      return { nr: 'brk', addr: ul(0, 'addr') };
    case 'mmap':
      need(4);
      return { nr: 'mmap', addr: ul(0, 'addr'), length: ul(1, 'length'), prot: ui(2, 'prot'), flags: ui(3, 'flags'), fd: req.filePath ? fd : fdArg(a[4]), offset: a.length > 5 ? ul(5, 'offset') : 0 };
    case 'munmap':
      need(2);
      return { nr: 'munmap', addr: ul(0, 'addr'), length: ul(1, 'length') };
    case 'mprotect':
      need(3);
      return { nr: 'mprotect', addr: ul(0, 'addr'), length: ul(1, 'length'), prot: ui(2, 'prot') };
    case 'mremap':
      need(4);
      return { nr: 'mremap', oldAddr: ul(0, 'old_address'), oldSize: ul(1, 'old_size'), newSize: ul(2, 'new_size'), flags: ui(3, 'flags'), newAddr: a.length > 4 ? ul(4, 'new_address') : 0 };
    case 'madvise':
      need(3);
      return { nr: 'madvise', addr: ul(0, 'addr'), length: ul(1, 'length'), advice: ui(2, 'advice') };
    case 'mlock':
      need(2);
      return { nr: 'mlock', addr: ul(0, 'addr'), length: ul(1, 'length') };
    case 'munlock':
      need(2);
      return { nr: 'munlock', addr: ul(0, 'addr'), length: ul(1, 'length') };
    default:
      throw invalid('vma.UNKNOWN_SYSCALL', `unknown system call "${req.nr}" (brk, mmap, munmap, mprotect, mremap, madvise, mlock, munlock)`);
  }
}

/** The id of the file at `path`, created with `size` bytes the first time it is named. */
async function fileId(host: VmaHost, m: MachineRefLike, path: string, size: bigint, rid: string): Promise<number> {
  if (!/^\/[\x21-\x7e]{1,4095}$/.test(path)) throw invalid('vma.INVALID_PATH', `file path "${path}" must be absolute, printable, without spaces`);
  const found = host.query(m, (s) => fileIdByPath(s, path));
  if (found !== undefined) return found;
  const sizeBytes = num(size, 'file_size');
  if (sizeBytes <= 0) throw invalid('vma.INVALID_ARGUMENT', `file ${path} does not exist yet: give its file_size (> 0)`);
  const r = await host.handle(m, { type: 'CreateFile', path, sizeBytes }, { requestId: rid === '' ? '' : `${rid}.create` });
  return r.answer as number;
}

function oneTask(host: VmaHost, m: MachineRefLike, pid: number): TaskInfo {
  return host.query(m, (s) => {
    const t = taskOf(s, pid);
    if (!t) throw notFound('vma.NO_SUCH_PID', `no process ${pid}`);
    // A process alone on its mm has one thread: no need to count over the whole task list.
    const mm = mmOf(s, pid);
    return taskInfo(s, t, mm && mm.users === 1 && t.pid === t.tgid ? new Map([[t.tgid, 1]]) : threadCounts(s));
  });
}

/** A negative answer is -errno; a pid otherwise. */
function pidOrErrno(answer: unknown, what: string): number {
  const n = answer as number;
  if (typeof n !== 'number') throw new Error(`${what}: no answer`);
  if (n < 0) throw invalid('vma.FAILED', `${what} failed: ${errnoName(-n)}`);
  return n;
}

export function vmaGrpc(host: VmaHost, bus: Bus): GrpcServiceRegistration {
  const ask = busAsk(bus);
  const implementation: VmaServiceServer = {
      spawn: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        if (!NAME.test(req.name)) throw invalid('vma.INVALID_NAME', `name must be 1-64 printable characters, got "${req.name}"`);
        const rlimits: Partial<Record<keyof Rlimits, number>> = {};
        for (const r of req.rlimits) {
          const [k, v] = rlimitOf(r);
          rlimits[k] = v;
        }
        for (const c of req.capabilities) if (!CAPS.includes(c as CapName)) throw invalid('vma.INVALID_CAPABILITY', `unknown capability "${c}" (known: ${CAPS.join(', ')})`);
        if (req.oomScoreAdj < -1000 || req.oomScoreAdj > 1000) throw invalid('vma.INVALID_OOM_SCORE_ADJ', `oom_score_adj must be -1000..1000, got ${req.oomScoreAdj}`);
        if (req.nice < -20 || req.nice > 19) throw invalid('vma.INVALID_NICE', `nice must be -20..19, got ${req.nice}`);
        const spec: SpawnSpec = {
          name: req.name,
          parent: req.parent === 0 ? undefined : req.parent,
          uid: req.uid,
          euid: req.euid,
          nice: req.nice,
          oomScoreAdj: req.oomScoreAdj,
          rlimits,
          caps: req.capabilities.length ? (req.capabilities as CapName[]) : undefined,
          cgroup: req.cgroup === '' ? undefined : req.cgroup,
          env: req.env,
          brkStart: req.brkStart === 0n ? undefined : num(req.brkStart, 'brk_start'),
        };
        const r = await host.handle(m, { type: 'Spawn', ...spec }, { requestId: requestId(call) });
        return { task: oneTask(host, m, pidOrErrno(r.answer, 'spawn')) };
      }),
      fork: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const r = await host.handle(m, { type: 'Fork', pid: pidOf(req.pid) }, { requestId: requestId(call) });
        return { child: oneTask(host, m, pidOrErrno(r.answer, 'fork')) };
      }),
      cloneThread: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const r = await host.handle(m, { type: 'CloneThread', pid: pidOf(req.pid) }, { requestId: requestId(call) });
        return { tid: pidOrErrno(r.answer, 'clone') };
      }),
      exit: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        await host.handle(m, { type: 'Exit', pid: pidOf(req.pid), code: req.code }, { requestId: requestId(call) });
        return {};
      }),
      kill: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const sig = req.signal === '' ? 'SIGKILL' : req.signal;
        if (sig !== 'SIGKILL') throw invalid('vma.UNSUPPORTED_SIGNAL', `only SIGKILL is modelled, got "${req.signal}"`);
        const r = await host.handle(m, { type: 'Kill', pid: pidOf(req.pid) }, { requestId: requestId(call) });
        const killed: number[] = [];
        for (const e of r.events) if (e.type === 'TaskExited' || e.type === 'KillPending') killed.push(e.pid);
        return { killed };
      }),
      syscall: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const pid = pidOf(req.pid);
        if (req.nr === 'mincore') return mincore(host, m, pid, req.args);
        const rid = requestId(call);
        const fd = req.filePath ? await fileId(host, m, req.filePath, req.fileSize, rid) : -1;
        const r = await host.handle(m, { type: 'Syscall', pid, call: syscallOf(req, fd) }, { requestId: rid });
        const result = r.answer as number;
        if (typeof result !== 'number') throw new Error(`${req.nr}: no result`);
        if (result === SYSCALL_KILLED) return { result: BigInt(result), errno: '', killed: true };
        return { result: BigInt(result), errno: result < 0 && result > -4096 ? errnoName(-result) : '', killed: false };
      }),
      touch: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const pid = pidOf(req.pid);
        const range: AddrRange = { addr: num(req.addr, 'addr'), length: num(req.length, 'length') };
        if (range.length === 0) throw invalid('vma.INVALID_ARGUMENT', 'length must be > 0');
        const before = host.query(m, (s) => taskOf(s, pid));
        const r = await host.handle(m, { type: 'Touch', pid, writes: req.write ? [range] : [], reads: req.write ? [] : [range] }, { requestId: requestId(call) });
        const after = host.query(m, (s) => taskOf(s, pid));
        const res = r.answer as { ok: boolean; signal?: string; blocked?: string };
        return {
          ok: res.ok,
          signal: res.ok ? '' : (res.signal ?? (res.blocked === 'panic' ? 'PANIC' : 'ENOMEM')),
          minorFaults: big(Math.max(0, (after?.minflt ?? 0) - (before?.minflt ?? 0))),
          majorFaults: big(Math.max(0, (after?.majflt ?? 0) - (before?.majflt ?? 0))),
        };
      }),
      readFile: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const pid = pidOf(req.pid);
        const rid = requestId(call);
        const fd = await fileId(host, m, req.filePath, req.fileSize, rid);
        const offset = num(req.offset, 'offset');
        const length = num(req.length, 'length');
        if (length === 0) throw invalid('vma.INVALID_ARGUMENT', 'length must be > 0');
        const r = await host.handle(m, { type: 'ReadFile', pid, file: fd, offset, length }, { requestId: rid });
        const res = r.answer as { ok: boolean; signal?: string; blocked?: string };
        return { ok: res.ok, signal: res.ok ? '' : (res.signal ?? (res.blocked === 'panic' ? 'PANIC' : 'ENOMEM')) };
      }),
      setOomScoreAdj: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const pid = pidOf(req.pid);
        const r = await host.handle(m, { type: 'SetOomScoreAdj', pid, value: req.oomScoreAdj, legacy: req.legacyOomAdj }, { requestId: requestId(call) });
        const errno = r.answer as number;
        if (errno < 0) throw invalid('vma.FAILED', `setting oom_score_adj failed: ${errnoName(-errno)}`);
        const t = host.query(m, (s) => taskOf(s, pid));
        return { oomScoreAdj: t?.oomScoreAdj ?? 0, oomAdj: t?.oomAdjWritten ?? Math.trunc(((t?.oomScoreAdj ?? 0) * 17) / 1000) };
      }),
      setRlimit: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        if (!req.rlimit) throw invalid('vma.INVALID_RLIMIT', 'rlimit is missing');
        const [resource, value] = rlimitOf(req.rlimit);
        await host.handle(m, { type: 'SetRlimit', pid: pidOf(req.pid), resource, value }, { requestId: requestId(call) });
        return {};
      }),
      chargeCpu: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        await host.handle(m, { type: 'AddCpuTime', pid: pidOf(req.pid), utimeTicks: num(req.utimeTicks, 'utime_ticks'), stimeTicks: num(req.stimeTicks, 'stime_ticks') }, { requestId: requestId(call) });
        return {};
      }),
      listTasks: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        return host.query(m, (s) => {
          const threads = threadCounts(s);
          const tasks = tasksInOrder(s).filter((t) => req.all || (!t.isKthread && t.state !== 'dead' && t.pid === t.tgid));
          return { tasks: tasks.map((t) => taskInfo(s, t, threads)) };
        });
      }),
      cgroup: unary(async (req, call) => {
        const m = existing(host, call, req.machine);
        const rid = requestId(call);
        const path = req.path;
        if (!/^\/[A-Za-z0-9_./-]*$/.test(path)) throw invalid('vma.INVALID_CGROUP', `cgroup path "${path}" must be absolute`);
        switch (req.op) {
          case 'mkdir':
            await host.handle(m, { type: 'CreateCgroup', path }, { requestId: rid });
            return { value: '' };
          case 'move':
            await host.handle(m, { type: 'MoveToCgroup', pid: pidOf(req.pid), path }, { requestId: rid });
            return { value: '' };
          case 'write':
            await host.handle(m, cgroupWrite(path, req.file, req.value), { requestId: rid });
            return { value: '' };
          case 'read': {
            // memory.current and memory.events are frames' (the charges, the high/max/oom counts).
            const id = host.query(m, (s) => cgroupIdOf(s, path));
            const fig = (await ask('frames', { type: 'GetMemcg', memcg: id }, { machine: m, requestId: '', parentSeq: 0, simTimeNs: 0n, position: host.position(m) })).answer as MemcgFigures | null;
            return { value: host.query(m, (s) => cgroupRead(s, path, req.file, fig)) };
          }
          default:
            throw invalid('vma.INVALID_CGROUP_OP', `op must be mkdir, write, read or move, got "${req.op}"`);
        }
      }),
  };
  return { definition: VmaServiceService, implementation };
}

/**
 * mincore(2), read-only: how many pages of [addr, addr + length) are resident (present, or the
 * zero page that an anonymous page only ever read maps), the count of set bytes of the vector
 * the kernel would fill. -ENOMEM when part of the range is not mapped, -EINVAL when addr is not
 * page-aligned, as the kernel answers. It changes nothing, so it is not logged.
 */
function mincore(host: VmaHost, m: MachineRefLike, pid: number, args: readonly bigint[]): { result: bigint; errno: string; killed: boolean } {
  if (args.length < 2) throw invalid('vma.INVALID_ARGUMENT', `mincore takes 2 arguments (addr, length), got ${args.length}`);
  const addr = num(args[0], 'mincore addr');
  const length = num(args[1], 'mincore length');
  return host.query(m, (s) => {
    if (!taskOf(s, pid)) throw notFound('vma.NO_SUCH_PID', `no process ${pid}`);
    if (addr % 4096 !== 0) return { result: -22n, errno: 'EINVAL', killed: false };
    for (let a = addr; a < addr + length; a += 4096) if (!isMapped(s, pid, a)) return { result: -12n, errno: 'ENOMEM', killed: false };
    return { result: BigInt(residentPages(s, pid, addr, length)), errno: '', killed: false };
  });
}

/** A cgroup limit as the kernel reads it (pageCounterMemparse): bytes, or -1 for "max". */
export function limitValue(file: string, value: string): number {
  const n = pageCounterMemparse(value);
  if (n === undefined) throw invalid('vma.INVALID_CGROUP_VALUE', `${file} takes bytes (4096, 64M, 2G...) or "max", got "${value}"`);
  return n;
}

function cgroupWrite(path: string, file: string, value: string): VmCommand {
  switch (file) {
    case 'memory.max':
      return { type: 'SetCgroupLimit', path, max: limitValue(file, value) };
    case 'memory.high':
      return { type: 'SetCgroupLimit', path, high: limitValue(file, value) };
    case 'memory.swap.max':
      return { type: 'SetCgroupLimit', path, swapMax: limitValue(file, value) };
    case 'memory.oom.group': {
      if (value.trim() !== '0' && value.trim() !== '1') throw invalid('vma.INVALID_CGROUP_VALUE', `memory.oom.group takes 0 or 1, got "${value}"`);
      return { type: 'SetCgroupLimit', path, oomGroup: value.trim() === '1' };
    }
    default:
      throw invalid('vma.INVALID_CGROUP_FILE', `cannot write "${file}" (memory.max, memory.high, memory.swap.max, memory.oom.group)`);
  }
}

function cgroupIdOf(s: VmState, path: string): number {
  const norm = '/' + path.split('/').filter((p) => p.length > 0).join('/');
  const cg = [...s.cgroups.values()].find((c) => c.path === norm);
  if (!cg) throw notFound('vma.NO_SUCH_CGROUP', `no cgroup ${path}`);
  return cg.id;
}

/** A memory.* file of a cgroup v2 directory: vm's tree and limits, frames' charges and events. */
function cgroupRead(s: VmState, path: string, file: string, fig: MemcgFigures | null): string {
  const id = cgroupIdOf(s, path);
  const cg = s.cgroups.get(id);
  const files = cgroupMemoryFiles(s, cg?.path ?? path, () =>
    fig ? { current: fig.current, events: fig.events, swapCurrent: fig.swapCurrent, swapEvents: fig.swapEvents } : null);
  const text = files[file];
  if (text === undefined) throw invalid('vma.INVALID_CGROUP_FILE', `cannot read "${file}" (${Object.keys(files).join(', ')})`);
  return text;
}
