// The scenario every cross-mode test runs: a 256 MiB machine without swap, five processes of
// different sizes and oom_score_adj, and a leaky one that mallocs and writes 1 MiB at a time
// until the OOM killer acts. Driven through the SDK (gRPC), so the same code runs against the
// embedded server and the four distributed ones.
//
// The sizes and adjustments are chosen so that the victim depends on the adjustment arithmetic
// (sizes for 256 MiB of RAM; `scale` divides them with the RAM, for a small golden log):
//   db     64 MiB, adj -500: the largest at first, protected by its adj (negative points)
//   cache  40 MiB, adj    0
//   batch  16 MiB, adj +500: the smallest worker, but 500 * totalpages/1000 makes it the victim
//   leaky  grows,  adj    0: the caller; the largest by RSS when memory runs out
// Without the adj term the victim would be leaky (or db); the test computes the expectation
// from the task list and the reference formula, not from the model's badness().
import type { KillSummary, MachineRef, TaskInfo } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';

export const MIB = 2 ** 20;
export const PAGE_KB = 4;

export interface ProcessPlan {
  readonly name: string;
  readonly oomScoreAdj: number;
  /** Bytes malloc'ed and written at start (one call; above the mmap threshold: an mmapped chunk). */
  readonly bytes: number;
  readonly uid: number;
}

export const PLAN: readonly ProcessPlan[] = [
  { name: 'sshd', oomScoreAdj: -1000, bytes: 2 * MIB, uid: 0 },
  { name: 'db', oomScoreAdj: -500, bytes: 64 * MIB, uid: 999 },
  { name: 'cache', oomScoreAdj: 0, bytes: 40 * MIB, uid: 1000 },
  { name: 'batch', oomScoreAdj: 500, bytes: 16 * MIB, uid: 1000 },
];

export const RAM_BYTES = 256 * MIB;
export const LEAK_STEP = 1 * MIB;
export const MAX_LEAK_STEPS = 400;

export interface ScenarioOptions {
  /** The machine seed (ASLR...). */
  readonly seed?: number;
  /** Divides RAM, the processes' sizes and the leak step (1: 256 MiB of RAM; 4: 64 MiB). */
  readonly scale?: number;
  /** Bytes the leaky process mallocs and writes per step (default LEAK_STEP / scale). */
  readonly leakStep?: number;
}

export interface OomRun {
  readonly machine: MachineRef;
  readonly pids: Readonly<Record<string, number>>;
  /** ListTasks (the thread-group leaders, as `ps`) just before the call during which the OOM killer acted. */
  readonly tasksBefore: readonly TaskInfo[];
  readonly meminfoBefore: string;
  /** The leaky call that triggered the kill (0-based), and its malloc result. */
  readonly fatalStep: number;
  readonly tasksAfter: readonly TaskInfo[];
  /** Every task, kernel threads included (ListTasks all). */
  readonly allTasksAfter: readonly TaskInfo[];
  readonly meminfoAfter: string;
  readonly kills: readonly KillSummary[];
  /** Every heap address the scenario got back, in order (they must match across modes). */
  readonly addresses: readonly bigint[];
}

export async function createScenarioMachine(client: MmsimClient, name: string, seed: number, scale = 1): Promise<MachineRef> {
  const machine: MachineRef = { tenant: client.tenant, machine: name };
  await client.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: BigInt(RAM_BYTES / scale), swapBytes: 0n, cpus: 2, seed: BigInt(seed), sysctls: [] });
  return machine;
}

/** Spawns a process, then mallocs `bytes` and writes every byte of it. Returns the pid. */
async function spawnAndFill(client: MmsimClient, machine: MachineRef, p: ProcessPlan, addresses: bigint[]): Promise<number> {
  const r = await client.vma.spawn({ machine, name: p.name, uid: p.uid, nice: 0, parent: 0, oomScoreAdj: p.oomScoreAdj, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n, euid: p.uid });
  const pid = r.task!.pid;
  if (p.bytes > 0) await mallocAndWrite(client, machine, pid, p.bytes, addresses);
  return pid;
}

/** malloc(bytes) then a write of all of it: the pages fault in. */
export async function mallocAndWrite(client: MmsimClient, machine: MachineRef, pid: number, bytes: number, addresses: bigint[]): Promise<bigint> {
  const target = { machine, pid, tid: 0 };
  const m = await client.heap.malloc({ target, size: BigInt(bytes) });
  const ptr = m.result!.value;
  addresses.push(ptr);
  if (ptr !== 0n && m.result!.signal === '') {
    const w = await client.heap.write({ target, ptr, offset: 0n, length: BigInt(bytes) });
    if (w.result!.signal !== '') addresses.push(-1n);
  }
  return ptr;
}

export const listTasks = async (client: MmsimClient, machine: MachineRef, all = false): Promise<TaskInfo[]> => (await client.vma.listTasks({ machine, all })).tasks;
export const meminfo = async (client: MmsimClient, machine: MachineRef): Promise<string> => (await client.readProc(machine, '/proc/meminfo')).text;

/** Runs the scenario on a new machine `name` and returns what the tests check. */
export async function runOomScenario(client: MmsimClient, name: string, opts: ScenarioOptions = {}): Promise<OomRun> {
  const scale = opts.scale ?? 1;
  const machine = await createScenarioMachine(client, name, opts.seed ?? 7, scale);
  const addresses: bigint[] = [];
  const pids: Record<string, number> = {};
  for (const p of PLAN) pids[p.name] = await spawnAndFill(client, machine, { ...p, bytes: p.bytes / scale }, addresses);
  pids.leaky = await spawnAndFill(client, machine, { name: 'leaky', oomScoreAdj: 0, bytes: 0, uid: 1000 }, addresses);

  for (let step = 0; step < MAX_LEAK_STEPS; step++) {
    const tasksBefore = await listTasks(client, machine);
    const meminfoBefore = await meminfo(client, machine);
    await mallocAndWrite(client, machine, pids.leaky, opts.leakStep ?? LEAK_STEP / scale, addresses);
    const kills = (await client.oom.listKills({ machine })).kills;
    if (kills.length > 0) {
      return {
        machine,
        pids,
        tasksBefore,
        meminfoBefore,
        fatalStep: step,
        tasksAfter: await listTasks(client, machine),
        allTasksAfter: await listTasks(client, machine, true),
        meminfoAfter: await meminfo(client, machine),
        kills,
        addresses,
      };
    }
  }
  throw new Error(`no OOM kill after ${MAX_LEAK_STEPS} MiB of leaks`);
}

/** /proc/meminfo as a map of kB values. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}
