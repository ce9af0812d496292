// Small stand-ins for frames and oom, for vm's own tests: frames hands out pfns from a pool of
// `ramPages` (no reclaim unless asked to evict), keeps a page cache and swap slots; oom kills
// the process with the most RSS (never init, kernel threads or oom_score_adj -1000). Each is an
// Aggregate whose one event per command carries the reply, so InProcessMachine can wire them.
import { Need, StateHasher, type Aggregate } from '../common/index.js';
import type { FramesTotals } from '../contracts/frames.js';
import type { OomRequest, OomVerdict } from '../contracts/oom.js';
import { DEFAULT_SYSCTLS, type MachineConfig, type VmSysctls } from '../machine/config.js';
import type { EvictedRun } from './types.js';

export interface FakeFramesState {
  ramPages: number;
  swapPages: number;
  free: number[];
  next: number;
  used: Set<number>;
  kernelPages: number;
  kernelPfns: number[];
  cache: Map<string, number>;
  swap: Map<number, { refs: number; pfn: number }>;
  nextSlot: number;
  memcgMax: Map<number, number>;
  memcgParent: Map<number, number>;
  memcgUsed: Map<number, number>;
  pageMemcg: Map<number, number>;
  /** Pages to evict on the next allocation (tests of reclaim): anon ones go to swap. */
  evictNext: { pfn: number; kind: 'anon' | 'file' | 'shmem'; owner: number; index: number }[];
  log: { type: string }[];
}

type Cmd = { type: string; [k: string]: unknown };
type Ev = { type: 'Answered'; command: Cmd; reply: unknown };

export function fakeFrames(ramPages: number, swapPages = 0): Aggregate<Cmd, Ev, FakeFramesState> {
  const alloc = (s: FakeFramesState, memcg: number): number => {
    if (s.free.length === 0 && s.next >= ramPages) return -1;
    let m: number | undefined = memcg;
    while (m !== undefined && m >= 0) {
      const max = s.memcgMax.get(m);
      if (max !== undefined && max >= 0 && (s.memcgUsed.get(m) ?? 0) + 1 > max) return -2 - m;
      m = m === 0 ? undefined : s.memcgParent.get(m);
    }
    const pfn = s.free.length ? (s.free.pop() as number) : s.next++;
    s.used.add(pfn);
    s.pageMemcg.set(pfn, memcg);
    for (let x: number | undefined = memcg; x !== undefined && x >= 0; x = x === 0 ? undefined : s.memcgParent.get(x)) s.memcgUsed.set(x, (s.memcgUsed.get(x) ?? 0) + 1);
    return pfn;
  };
  const free = (s: FakeFramesState, pfn: number): void => {
    if (!s.used.delete(pfn)) throw new Error(`fake frames: double free of pfn ${pfn}`);
    const memcg = s.pageMemcg.get(pfn) ?? 0;
    for (let x: number | undefined = memcg; x !== undefined && x >= 0; x = x === 0 ? undefined : s.memcgParent.get(x)) s.memcgUsed.set(x, (s.memcgUsed.get(x) ?? 0) - 1);
    s.free.push(pfn);
  };
  const grant = (s: FakeFramesState, n: number, memcg: number) => {
    const pfns: number[] = [];
    const evicted: EvictedRun[] = [];
    for (const e of s.evictNext.splice(0)) {
      let slot = -1;
      if (e.kind === 'anon') {
        slot = s.nextSlot++;
        s.swap.set(slot, { refs: 1, pfn: -1 });
      }
      evicted.push({ pfn: e.pfn, count: 1, kind: e.kind, owner: e.owner, index: e.index, slot });
      free(s, e.pfn);
    }
    for (let i = 0; i < n; i++) {
      const p = alloc(s, memcg);
      if (p < 0) return { pfns, evicted, failed: p === -1 ? { kind: 'global' as const } : { kind: 'memcg' as const, memcg: -2 - p }, majorFaults: 0 };
      pfns.push(p);
    }
    return { pfns, evicted, failed: null, majorFaults: 0 };
  };
  const reply = (s: FakeFramesState, c: Cmd): unknown => {
    const memcg = (c.memcg as number) ?? 0;
    switch (c.type) {
      case 'GetTotals': {
        const t: FramesTotals = {
          totalRamPages: ramPages,
          totalSwapPages: swapPages,
          freePages: ramPages - s.used.size,
          freeSwapPages: swapPages - s.swap.size,
          filePages: s.cache.size,
          shmemPages: 0,
          sReclaimablePages: 0,
          totalReservePages: 0,
          hugetlbPages: 0,
        };
        return t;
      }
      case 'AllocUserPages': {
        const runs = (c.runs as { count: number }[]) ?? [];
        return grant(s, runs.reduce((n, r) => n + r.count, 0), memcg);
      }
      case 'AddKernelPages': {
        const g = grant(s, c.pages as number, memcg);
        s.kernelPages += g.pfns.length;
        s.kernelPfns.push(...g.pfns);
        return g;
      }
      case 'FreeKernelPages':
        // frames frees kernel pages by count; the fake gives back the most recent ones.
        s.kernelPages -= c.pages as number;
        for (let i = 0; i < (c.pages as number); i++) free(s, s.kernelPfns.pop() as number);
        return null;
      case 'GetFilePage': {
        const key = `${c.kind}:${c.file}:${c.index}`;
        const hit = s.cache.get(key);
        if (hit !== undefined) return { pfns: [hit], evicted: [], failed: null, majorFaults: 0 };
        const g = grant(s, 1, memcg);
        if (g.pfns.length) s.cache.set(key, g.pfns[0]);
        return { ...g, majorFaults: g.pfns.length && c.kind === 'file' ? 1 : 0 };
      }
      case 'GetFilePages': {
        const pfns: number[] = [];
        let major = 0;
        for (let k = 0; k < (c.count as number); k++) {
          const r = reply(s, { ...c, type: 'GetFilePage', index: (c.index as number) + k }) as { pfns: number[]; evicted: EvictedRun[]; failed: unknown; majorFaults: number };
          if (!r.pfns.length) return { pfns, evicted: [], failed: r.failed, majorFaults: major };
          pfns.push(r.pfns[0]);
          major += r.majorFaults;
        }
        return { pfns, evicted: [], failed: null, majorFaults: major };
      }
      case 'SwapInPages': {
        const pfns: number[] = [];
        let major = 0;
        for (const e of c.entries as { slot: number; index: number; count: number }[]) {
          for (let k = 0; k < e.count; k++) {
            const r = reply(s, { type: 'SwapIn', slot: e.slot + k, page: { kind: 'anon', owner: c.owner, index: e.index + k }, memcg, write: c.write }) as { pfns: number[]; failed: unknown; majorFaults: number };
            if (!r.pfns.length) return { pfns, evicted: [], failed: r.failed, majorFaults: major };
            pfns.push(r.pfns[0]);
            major += r.majorFaults;
          }
        }
        return { pfns, evicted: [], failed: null, majorFaults: major };
      }
      case 'SwapIn': {
        const slot = c.slot as number;
        const e = s.swap.get(slot);
        if (!e) throw new Error(`fake frames: swap-in of free slot ${slot}`);
        let major = 0;
        if (e.pfn < 0) {
          const g = grant(s, 1, memcg);
          if (!g.pfns.length) return g;
          e.pfn = g.pfns[0];
          major = 1;
        }
        const pfn = e.pfn;
        if (--e.refs === 0) s.swap.delete(slot);
        return { pfns: [pfn], evicted: [], failed: null, majorFaults: major };
      }
      case 'FreeUserPages':
        for (const p of c.pfns as number[]) free(s, p);
        return null;
      case 'FreeSwapSlots':
        for (const slot of c.slots as number[]) {
          const e = s.swap.get(slot);
          if (!e) throw new Error(`fake frames: free of free slot ${slot}`);
          if (--e.refs === 0) s.swap.delete(slot);
        }
        return null;
      case 'DupSwapSlots':
        for (const slot of c.slots as number[]) {
          const e = s.swap.get(slot);
          if (!e) throw new Error(`fake frames: dup of free slot ${slot}`);
          e.refs++;
        }
        return null;
      case 'SetMemcgLimit':
        s.memcgParent.set(c.memcg as number, c.parent as number);
        s.memcgMax.set(c.memcg as number, c.maxPages === null ? -1 : (c.maxPages as number));
        return { pfns: [], evicted: [], failed: null, majorFaults: 0 };
      default:
        return { pfns: [], evicted: [], failed: null, majorFaults: 0 };
    }
  };
  return {
    service: 'frames',
    initialState: () => ({
      ramPages,
      swapPages,
      free: [],
      next: 0,
      used: new Set(),
      kernelPages: 0,
      kernelPfns: [],
      cache: new Map(),
      swap: new Map(),
      nextSlot: 0,
      memcgMax: new Map(),
      memcgParent: new Map(),
      memcgUsed: new Map(),
      pageMemcg: new Map(),
      evictNext: [],
      log: [],
    }),
    decide: (c) => [{ type: 'Answered', command: c, reply: null }],
    evolve: (s, e) => {
      s.log.push({ type: e.command.type });
      (e as { reply: unknown }).reply = reply(s, e.command);
      return s;
    },
    stateHash: (s) => new StateHasher().int(s.used.size).int(s.next).digest(),
    answer: (_c, evs) => (evs[0] as Ev).reply,
  };
}

export interface FakeOomState {
  requests: (OomRequest & { type: 'OutOfMemory' })[];
  commands: Cmd[];
  /** Verdicts to give instead of choosing (tests of wait/none/panic). */
  script: OomVerdict[];
}

/** Kills the process with the largest rss + swap (ties: the later one), like 6.18's oom_badness without adj. */
export function fakeOom(): Aggregate<Cmd, Ev, FakeOomState> {
  const choose = (s: FakeOomState, r: OomRequest & { type: 'OutOfMemory' }): OomVerdict => {
    const scripted = s.script.shift();
    if (scripted) return scripted;
    let best = -1;
    let bestPoints = -Infinity;
    for (const t of r.tasks) {
      if (t.pid === 1 || t.isKthread || !t.mm || t.oomScoreAdj === -1000 || t.mm.oomSkip) continue;
      const points = t.mm.rssAnon + t.mm.rssFile + t.mm.rssShmem + t.mm.swapEnts + t.mm.pgtablesBytes / 4096 + t.oomScoreAdj * Math.trunc(r.totalPages / 1000);
      if (points >= bestPoints) {
        bestPoints = points;
        best = t.pid;
      }
    }
    if (best < 0) return { kind: 'none', reason: 'no killable task' };
    return { kind: 'kill', victim: best, kill: [best], killSeq: s.requests.length };
  };
  return {
    service: 'oom',
    initialState: () => ({ requests: [], commands: [], script: [] }),
    decide: (c) => [{ type: 'Answered', command: c, reply: null }],
    evolve: (s, e) => {
      const c = e.command;
      s.commands.push(c);
      if (c.type === 'OutOfMemory') {
        const r = c as unknown as OomRequest & { type: 'OutOfMemory' };
        s.requests.push(r);
        (e as { reply: unknown }).reply = choose(s, r);
      } else if (c.type === 'Tick') (e as { reply: unknown }).reply = { signals: [], reap: [], oomSkip: [], logLines: [] };
      else (e as { reply: unknown }).reply = [];
      return s;
    },
    stateHash: (s) => new StateHasher().int(s.requests.length).digest(),
    answer: (_c, evs) => (evs[0] as Ev).reply,
  };
}

/** A machine config for tests: `ramMiB` of RAM, `swapMiB` of swap. */
export function testConfig(ramMiB: number, swapMiB = 0, sysctl: Partial<VmSysctls> = {}, seed = 42): MachineConfig {
  return {
    tenant: 't',
    machine: 'm',
    profile: 'linux-6.18',
    ramBytes: ramMiB * 1024 * 1024,
    swapBytes: swapMiB * 1024 * 1024,
    cpus: 2,
    seed,
    sysctl: { ...DEFAULT_SYSCTLS, ...sysctl },
  };
}

/** Answers Needs from a list, for decide() tests without a machine. */
export function answering(needs: unknown[]): (e: unknown) => unknown {
  return (e) => {
    if (!(e instanceof Need)) throw e;
    return needs.shift();
  };
}

import { InProcessMachine } from '../machine/in-process.js';
import type { VmCommand, VmState, Mm } from './types.js';
import type { VmAggregate } from './aggregate.js';

/** vm wired to the fakes, booted. */
export class TestMachine {
  readonly m: InProcessMachine;
  constructor(
    readonly vm: VmAggregate,
    ramPages: number,
    swapPages = 0,
    sysctl: Partial<VmSysctls> = {},
    seed = 42,
    profile: MachineConfig['profile'] = 'linux-6.18',
  ) {
    this.m = new InProcessMachine({ vma: vm, frames: fakeFrames(ramPages, swapPages), oom: fakeOom() });
    const cfg = { ...testConfig(Math.ceil((ramPages * 4096) / 2 ** 20), (swapPages * 4096) / 2 ** 20, sysctl, seed), profile };
    this.handle({ type: 'CreateMachine', config: cfg });
  }
  handle(c: VmCommand): { events: readonly unknown[]; answer: unknown } {
    return this.m.handle('vma', c);
  }
  get state(): VmState {
    return this.m.state<VmState>('vma');
  }
  get frames(): FakeFramesState {
    return this.m.state<FakeFramesState>('frames');
  }
  get oom(): FakeOomState {
    return this.m.state<FakeOomState>('oom');
  }
  spawn(name = 'prog', extra: Partial<Extract<VmCommand, { type: 'Spawn' }>> = {}): number {
    return this.handle({ type: 'Spawn', name, ...extra }).answer as number;
  }
  sys(pid: number, call: Extract<VmCommand, { type: 'Syscall' }>['call']): number {
    return this.handle({ type: 'Syscall', pid, call }).answer as number;
  }
  mmap(pid: number, length: number, prot = 3, flags = 0x22, addr = 0): number {
    return this.sys(pid, { nr: 'mmap', addr, length, prot, flags });
  }
  touch(pid: number, writes: { addr: number; length: number }[], reads: { addr: number; length: number }[] = []): unknown {
    return this.handle({ type: 'Touch', pid, writes, reads }).answer;
  }
  mm(pid: number): Mm {
    const t = this.state.tasks.get(pid);
    if (!t) throw new Error(`no task ${pid}`);
    const mm = this.state.mms.get(t.mmId);
    if (!mm) throw new Error(`no mm for ${pid}`);
    return mm;
  }
}
