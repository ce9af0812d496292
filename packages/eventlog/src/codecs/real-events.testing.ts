// Real events for the codec specs: frames, vma and oom wired in one InProcessMachine (the way
// kernel/src/vm/full-machine.ts does), driven through a scenario that reaches most of their
// events: processes spawn, fork, map files and anonymous memory, move the break, change
// protections, lock, advise, set limits, and then fill a memcg and the machine until the OOM
// killer runs, the oom_reaper reaps and a userspace killer polls. Every event is recorded with
// the service that emitted it, in log order.
import { DEFAULT_SYSCTLS, InProcessMachine, type Aggregate, type MachineConfig, type ServiceName } from '@mmsim/kernel';
import { answerOf as framesAnswer, frames, isFramesQuery, queryFrames, totals as framesTotals, type FramesEvent, type FramesState } from '@mmsim/kernel/frames';
import { oom, type OomEvent } from '@mmsim/kernel/oom';
import { createVm, type VmCommand, type VmEvent, type VmState } from '@mmsim/kernel/vm';

type AnyAggregate = Aggregate<unknown, unknown, unknown>;

export interface RecordedEvents {
  readonly frames: FramesEvent[];
  readonly vma: VmEvent[];
  readonly oom: OomEvent[];
  /** Every event in log order with its service and the emitting aggregate's state hash. */
  readonly log: { service: ServiceName; event: unknown; stateHash: string }[];
}

/** frames with its queries answered without events, and the contract's AllocReply as its answer. */
function framesHost(): AnyAggregate {
  const f = frames as unknown as AnyAggregate;
  return {
    ...f,
    decide: (c: unknown, s: unknown) => (isFramesQuery(c) ? [] : f.decide(c, s)),
    answer: (c: unknown, evs: readonly unknown[], s: unknown) =>
      isFramesQuery(c) ? queryFrames(s as FramesState, c) : framesAnswer(c as Parameters<typeof framesAnswer>[0], evs as Parameters<typeof framesAnswer>[1]),
  };
}

const MiB = 2 ** 20;
const PAGE = 4096;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const MAP_SHARED_ANON = 0x21;
const MAP_PRIVATE = 0x02;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;
const MAP_NORESERVE = 0x4000;
const VM_GROWSDOWN = 0x100;

export function machineConfig(profile: MachineConfig['profile'], machine: string): MachineConfig {
  return {
    tenant: 'codec',
    machine,
    profile,
    ramBytes: 128 * MiB,
    swapBytes: 16 * MiB,
    cpus: 2,
    seed: 2 ** 40 + 3,
    sysctl: { ...DEFAULT_SYSCTLS },
  };
}

/** Runs the scenario on a machine of `profile` and returns what each aggregate emitted. */
export function recordRealEvents(profile: MachineConfig['profile']): RecordedEvents {
  const rec: RecordedEvents = { frames: [], vma: [], oom: [], log: [] };
  const m = new InProcessMachine(
    { vma: createVm() as unknown as AnyAggregate, frames: framesHost(), oom: oom as unknown as AnyAggregate },
    {
      onEvents: (service, events, hashes) => {
        events.forEach((event, i) => {
          rec.log.push({ service, event, stateHash: hashes[i] });
          if (service === 'frames') rec.frames.push(event as FramesEvent);
          else if (service === 'vma') rec.vma.push(event as VmEvent);
          else if (service === 'oom') rec.oom.push(event as OomEvent);
        });
      },
    },
  );
  const config = machineConfig(profile, `real-${profile}`);
  const vma = (c: VmCommand): unknown => m.handle('vma', c).answer;
  const pidOf = (c: VmCommand): number => {
    const pid = vma(c);
    if (typeof pid !== 'number' || pid <= 0) throw new Error(`${c.type} failed: ${String(pid)}`);
    return pid;
  };
  const spawn = (name: string, extra: Partial<Extract<VmCommand, { type: 'Spawn' }>> = {}): number => pidOf({ type: 'Spawn', name, prefault: false, ...extra });
  const sys = (pid: number, call: Extract<VmCommand, { type: 'Syscall' }>['call']): number => vma({ type: 'Syscall', pid, call }) as number;
  const mmap = (pid: number, length: number, flags = MAP_PRIVATE_ANON): number => sys(pid, { nr: 'mmap', addr: 0, length, prot: PROT_RW, flags });
  const touch = (pid: number, addr: number, length: number, write = true): { ok: boolean } =>
    vma({ type: 'Touch', pid, writes: write ? [{ addr, length }] : [], reads: write ? [] : [{ addr, length }] }) as { ok: boolean };
  const state = (): VmState => m.state<VmState>('vma');
  const alive = (pid: number): boolean => state().tasks.get(pid)?.state === 'running';

  m.handle('frames', { type: 'Boot', config });
  const t = framesTotals(m.state<FramesState>('frames'));
  m.handle('oom', { type: 'Configure', config, totalRamPages: t.totalRamPages, totalSwapPages: t.totalSwapPages });
  m.handle('oom', { type: 'EnableUserspaceKiller', kind: 'systemd-oomd', options: { swapMonitored: ['/'], swapUsedLimitBp: 5000, intervalMs: 1000 } });
  vma({ type: 'CreateMachine', config, totals: t });
  vma({ type: 'SetSysctl', name: 'swappiness', value: 100 });
  vma({ type: 'SetSysctl', name: 'overcommit_ratio', value: 80 });

  // A process with a heap, anonymous memory read and written, a file mapping, shared anonymous
  // memory, a fork, protections, advice, locks, a remap, a stack that grows, a thread.
  const a = spawn('alpha', { env: ['MALLOC_ARENA_MAX=1'], prefault: true });
  const brk = sys(a, { nr: 'brk', addr: 0 });
  sys(a, { nr: 'brk', addr: brk + 256 * 1024 });
  touch(a, brk, 64 * 1024);
  const anon = mmap(a, 4 * MiB);
  touch(a, anon, 1 * MiB);
  touch(a, anon + 2 * MiB, 256 * 1024, false);
  const file = vma({ type: 'CreateFile', path: '/data/table.db', sizeBytes: 2 * MiB }) as number;
  const fmap = sys(a, { nr: 'mmap', addr: 0, length: 2 * MiB, prot: 1, flags: MAP_PRIVATE, fd: file, offset: 0 });
  touch(a, fmap, 256 * 1024, false);
  const shared = mmap(a, 1 * MiB, MAP_SHARED_ANON);
  touch(a, shared, 256 * 1024);
  const child = pidOf({ type: 'Fork', pid: a });
  touch(child, anon, 64 * 1024);
  sys(a, { nr: 'mprotect', addr: anon + 3 * MiB, length: PAGE, prot: 1 });
  sys(a, { nr: 'madvise', addr: anon, length: 64 * 1024, advice: MADV_DONTNEED });
  sys(a, { nr: 'madvise', addr: anon + 64 * 1024, length: 64 * 1024, advice: MADV_FREE });
  sys(a, { nr: 'mlock', addr: anon + 512 * 1024, length: 64 * 1024 });
  sys(a, { nr: 'munlock', addr: anon + 512 * 1024, length: 64 * 1024 });
  const small = mmap(a, 1 * MiB);
  touch(a, small, 64 * 1024);
  const moved = sys(a, { nr: 'mremap', oldAddr: small, oldSize: 1 * MiB, newSize: 2 * MiB, flags: 1 });
  sys(a, { nr: 'munmap', addr: moved + 1 * MiB, length: 1 * MiB });
  const mm = state().mms.get(state().tasks.get(a)?.mmId ?? 0);
  const stack = mm?.vmas.find((v) => v.flags & VM_GROWSDOWN);
  if (stack) touch(a, stack.start - 2 * PAGE, PAGE);
  const thread = pidOf({ type: 'CloneThread', pid: a });
  vma({ type: 'SetOomScoreAdj', pid: a, value: 300 });
  vma({ type: 'SetOomScoreAdj', pid: child, value: -5, legacy: true });
  vma({ type: 'SetNice', pid: child, nice: 5 });
  vma({ type: 'SetRlimit', pid: child, resource: 'memlock', value: 1 * MiB });
  vma({ type: 'AddCpuTime', pid: a, utimeTicks: 1500, stimeTicks: 200 });
  vma({ type: 'Exit', pid: child, code: 3 });
  vma({ type: 'Kill', pid: spawn('doomed') });

  // A memcg of 4 MiB: a process inside it runs into memory.max (memcg OOM).
  vma({ type: 'CreateCgroup', path: '/jail' });
  vma({ type: 'SetCgroupLimit', path: '/jail', max: 4 * MiB, oomGroup: true });
  const jailed = spawn('jailed', { cgroup: '/jail' });
  touch(jailed, mmap(jailed, 16 * MiB), 16 * MiB);
  vma({ type: 'AdvanceTime', ns: 2e9 });

  // Hogs fill RAM and swap until the global OOM killer runs. The first victim is stuck in
  // uninterruptible sleep, so it cannot exit: the next OOM waits for it and the oom_reaper
  // (6.18) reaps it as time passes.
  const hogs = [spawn('hog1', { oomScoreAdj: 900 }), spawn('hog2'), spawn('hog3')];
  vma({ type: 'SetTaskStuck', pid: hogs[0], stuck: true });
  for (const h of hogs) {
    if (!alive(h)) continue;
    const p = mmap(h, 192 * MiB, MAP_PRIVATE_ANON | MAP_NORESERVE);
    for (let off = 0; off < 192 * MiB && alive(h); off += 16 * MiB) if (!touch(h, p + off, 16 * MiB).ok) break;
    vma({ type: 'AdvanceTime', ns: 1e9 });
  }
  for (let i = 0; i < 4; i++) vma({ type: 'AdvanceTime', ns: 1e9 });
  vma({ type: 'SetTaskStuck', pid: hogs[0], stuck: false });
  vma({ type: 'AdvanceTime', ns: 1e9 });
  if (alive(a)) vma({ type: 'Exit', pid: thread, code: 0 });

  vma({ type: 'CreateCgroup', path: '/batch' });
  const batch = spawn('batch');
  vma({ type: 'MoveToCgroup', pid: batch, path: '/batch' });
  vma({ type: 'MoveToCgroup', pid: batch, path: '/' });
  vma({ type: 'RemoveCgroup', path: '/batch' });
  m.handle('oom', { type: 'DisableUserspaceKiller', kind: 'systemd-oomd' });
  m.handle('frames', { type: 'DropCaches', mode: 3 });

  // Last: panic_on_oom=2, and one more OOM stops the machine.
  vma({ type: 'SetSysctl', name: 'panic_on_oom', value: 2 });
  const last = spawn('last');
  const p = mmap(last, 192 * MiB, MAP_PRIVATE_ANON | MAP_NORESERVE);
  for (let off = 0; off < 192 * MiB && alive(last) && !state().sc.panicked; off += 16 * MiB) if (!touch(last, p + off, 16 * MiB).ok) break;
  return rec;
}
