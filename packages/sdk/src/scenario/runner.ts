// Runs a scenario against mmsim through the SDK, one step at a time (commands of one machine
// are serialized, so the same scenario and seed give the same log).
import { durationOf, sizeOf } from './size.js';
import type { MmsimClient } from '../client.js';
import type { HeapResult, MachineRef } from '@mmsim/proto';
import type { Ref, Scenario, ScenarioResult, Size, Step, Until } from './types.js';

export interface RunOptions {
  /** Called after each step, for progress lines. */
  readonly onStep?: (index: number, step: Step, note: string) => void;
  /** Use an existing machine instead of creating it. */
  readonly reuseMachine?: boolean;
  /** Called once the machine exists, before the first step. */
  readonly onCreated?: () => void | Promise<void>;
  /** Called after every call made to the services (steps inside repeats included). */
  readonly onProgress?: () => void;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

const PROT: Record<string, number> = { r: 1, w: 2, x: 4 };

export async function runScenario(client: MmsimClient, scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const machine: MachineRef = { tenant: client.tenant, machine: scenario.machine.name };
  const vars: Record<string, number> = {};
  const killed: number[] = [];
  let nullReturns = 0;
  let steps = 0;
  const m = scenario.machine;
  if (!options.reuseMachine) {
    await client.machines.createMachine({
      machine,
      profile: m.profile ?? 'linux-6.18',
      ramBytes: BigInt(size(m.ramBytes)),
      swapBytes: BigInt(size(m.swapBytes ?? 0)),
      cpus: m.cpus ?? 2,
      seed: BigInt(m.seed ?? 1),
      sysctls: Object.entries(m.sysctls ?? {}).map(([name, value]) => ({ name, value: String(value) })),
    });
  }
  await options.onCreated?.();

  const ref = (r: Ref): number => {
    if (typeof r === 'number') return r;
    if (r.startsWith('$')) {
      const v = vars[r.slice(1)];
      if (v === undefined) throw new ScenarioError(`${r} names no earlier result`);
      return v;
    }
    const n = Number(r);
    if (!Number.isSafeInteger(n)) throw new ScenarioError(`"${r}" is neither a number nor a $name`);
    return n;
  };
  const keep = (as: string | undefined, v: number) => {
    if (as) vars[as] = v;
  };
  /** `allocates`: the call returns a pointer (malloc, calloc, realloc), so 0 is NULL; free and write return 0 anyway. */
  const heapOutcome = (pid: number, r: HeapResult | undefined, allocates = false): number => {
    if (!r) throw new ScenarioError('the heap service returned no result');
    if (r.signal) {
      if (!killed.includes(pid)) killed.push(pid);
      return 0;
    }
    if (allocates && r.value === 0n) nullReturns++;
    return Number(r.value);
  };
  const target = (pid: number, tid = 0) => ({ machine, pid, tid });

  const run = async (step: Step): Promise<string> => {
    steps++;
    if (!('repeat' in step)) options.onProgress?.();
    if ('spawn' in step) {
      const s = step.spawn;
      const r = await client.vma.spawn({
        machine,
        name: s.name,
        uid: s.uid ?? 1000,
        nice: s.nice ?? 0,
        parent: s.parent === undefined ? 0 : ref(s.parent),
        oomScoreAdj: s.oomScoreAdj ?? 0,
        rlimits: Object.entries(s.rlimits ?? {}).map(([resource, v]) => ({ resource, soft: BigInt(size(v)), hard: BigInt(size(v)) })),
        capabilities: [...(s.capabilities ?? [])],
        cgroup: s.cgroup ?? '',
        env: [...(s.env ?? [])],
        brkStart: 0n,
      });
      keep(s.as, r.task!.pid);
      return `spawned ${s.name} pid ${r.task!.pid}`;
    }
    if ('fork' in step) {
      const r = await client.vma.fork({ machine, pid: ref(step.fork.pid) });
      keep(step.fork.as, r.child!.pid);
      return `forked pid ${r.child!.pid}`;
    }
    if ('exit' in step) {
      await client.vma.exit({ machine, pid: ref(step.exit.pid), code: step.exit.code ?? 0 });
      return 'exited';
    }
    if ('kill' in step) {
      const r = await client.vma.kill({ machine, pid: ref(step.kill.pid), signal: step.kill.signal ?? 'SIGKILL' });
      killed.push(...r.killed);
      return `killed ${r.killed.join(',')}`;
    }
    if ('malloc' in step) {
      const s = step.malloc;
      const pid = ref(s.pid);
      const bytes = size(s.size);
      const r = await client.heap.malloc({ target: target(pid, s.tid ?? 0), size: BigInt(bytes) });
      const p = heapOutcome(pid, r.result, true);
      keep(s.as, p);
      if (p !== 0 && s.write) {
        const w = await client.heap.write({ target: target(pid, s.tid ?? 0), ptr: BigInt(p), offset: 0n, length: BigInt(bytes) });
        heapOutcome(pid, w.result);
      }
      return `malloc(${bytes}) = 0x${p.toString(16)}`;
    }
    if ('calloc' in step) {
      const s = step.calloc;
      const pid = ref(s.pid);
      const r = await client.heap.calloc({ target: target(pid), nmemb: BigInt(size(s.nmemb)), size: BigInt(size(s.size)) });
      const p = heapOutcome(pid, r.result, true);
      keep(s.as, p);
      return `calloc = 0x${p.toString(16)}`;
    }
    if ('realloc' in step) {
      const s = step.realloc;
      const pid = ref(s.pid);
      const r = await client.heap.realloc({ target: target(pid), ptr: BigInt(ref(s.ptr)), size: BigInt(size(s.size)) });
      const p = heapOutcome(pid, r.result, true);
      keep(s.as, p);
      return `realloc = 0x${p.toString(16)}`;
    }
    if ('free' in step) {
      const pid = ref(step.free.pid);
      const r = await client.heap.free({ target: target(pid), ptr: BigInt(ref(step.free.ptr)) });
      heapOutcome(pid, r.result);
      return 'freed';
    }
    if ('write' in step) {
      const s = step.write;
      const pid = ref(s.pid);
      const r = await client.heap.write({ target: target(pid), ptr: BigInt(ref(s.ptr)), offset: BigInt(size(s.offset ?? 0)), length: BigInt(size(s.length)) });
      heapOutcome(pid, r.result);
      return 'written';
    }
    if ('mmap' in step) {
      const s = step.mmap;
      const pid = ref(s.pid);
      const prot = [...(s.prot ?? 'rw')].reduce((a, c) => a | (PROT[c] ?? 0), 0);
      const flags = (s.shared ? 0x01 : 0x02) | (s.file ? 0 : 0x20) | (s.noreserve ? 0x4000 : 0);
      const r = await client.vma.syscall({ machine, pid, nr: 'mmap', args: [0n, BigInt(size(s.length)), BigInt(prot), BigInt(flags), -1n, 0n], filePath: s.file ?? '', fileSize: BigInt(s.file ? size(s.fileSize ?? s.length) : 0) });
      if (r.killed && !killed.includes(pid)) killed.push(pid);
      keep(s.as, Number(r.result));
      return `mmap = ${r.result < 0n ? r.errno : '0x' + r.result.toString(16)}`;
    }
    if ('munmap' in step) {
      const s = step.munmap;
      const r = await client.vma.syscall({ machine, pid: ref(s.pid), nr: 'munmap', args: [BigInt(ref(s.addr)), BigInt(size(s.length))], filePath: '', fileSize: 0n });
      return `munmap = ${r.result}`;
    }
    if ('touch' in step) {
      const s = step.touch;
      const pid = ref(s.pid);
      const r = await client.vma.touch({ machine, pid, addr: BigInt(ref(s.addr)), length: BigInt(size(s.length)), write: s.write ?? true });
      if (!r.ok && r.signal === 'SIGKILL' && !killed.includes(pid)) killed.push(pid);
      return r.ok ? 'touched' : `touch: ${r.signal}`;
    }
    if ('readFile' in step) {
      const s = step.readFile;
      const pid = ref(s.pid);
      const r = await client.vma.readFile({ machine, pid, filePath: s.file, fileSize: BigInt(size(s.fileSize ?? s.length)), offset: BigInt(size(s.offset ?? 0)), length: BigInt(size(s.length)) });
      if (!r.ok && r.signal === 'SIGKILL' && !killed.includes(pid)) killed.push(pid);
      return r.ok ? 'read' : `read: ${r.signal}`;
    }
    if ('adj' in step) {
      await client.vma.setOomScoreAdj({ machine, pid: ref(step.adj.pid), oomScoreAdj: step.adj.value, legacyOomAdj: false });
      return 'adj set';
    }
    if ('sysctl' in step) {
      await client.machines.sysctl({ machine, name: step.sysctl.name, value: String(step.sysctl.value) });
      return 'sysctl set';
    }
    if ('cgroup' in step) {
      const s = step.cgroup;
      await client.vma.cgroup({ machine, path: s.path, op: s.op, file: s.file ?? '', value: s.value ?? '', pid: s.pid === undefined ? 0 : ref(s.pid) });
      return `cgroup ${s.op}`;
    }
    if ('advance' in step) {
      const ns = duration(step.advance);
      const r = await client.machines.advanceTime({ machine, ns: BigInt(ns) });
      killed.push(...r.killed.filter((p) => !killed.includes(p)));
      return `time ${r.simTimeNs}`;
    }
    if ('repeat' in step) {
      const s = step.repeat;
      for (let i = 0; i < s.times; i++) {
        const before = { killed: killed.length, nulls: nullReturns, ooms: s.until === 'oom-kill' ? await oomKills() : 0 };
        for (const inner of s.steps) await run(inner);
        if (s.until && (await stopped(s.until, before))) return `repeat stopped after ${i + 1}`;
      }
      return `repeat ${s.times}`;
    }
    throw new ScenarioError(`unknown step ${JSON.stringify(step)}`);
  };

  /** Kills the kernel's OOM killer (or a userspace one) decided so far on the machine. */
  const oomKills = async (): Promise<number> => (await client.oom.listKills({ machine })).kills.filter((k) => k.killed.length > 0).length;
  const stopped = async (u: Until, before: { killed: number; nulls: number; ooms: number }): Promise<boolean> => {
    if (u === 'oom-kill') {
      const now = await oomKills();
      if (now > before.ooms) {
        // Victims other than the caller are not seen in any result: take them from the decisions.
        for (const k of (await client.oom.listKills({ machine })).kills) for (const p of k.killed) if (!killed.includes(p)) killed.push(p);
        return true;
      }
      return false;
    }
    if (u === 'null') return nullReturns > before.nulls;
    return killed.includes(ref(u.gone));
  };

  for (let i = 0; i < scenario.steps.length; i++) {
    const note = await run(scenario.steps[i]);
    options.onStep?.(i, scenario.steps[i], note);
  }
  return { vars, steps, killed, nullReturns };
}

function size(s: Size): number {
  const n = sizeOf(s);
  if (n === undefined) throw new ScenarioError(`"${s}" is not a size`);
  return n;
}

/** "2s", "500ms", "1500us", "10ns" or a number of ns. */
export function duration(s: Size | string): number {
  const n = durationOf(s);
  if (n === undefined) throw new ScenarioError(`"${s}" is not a duration (e.g. 2s, 500ms)`);
  return n;
}
