// What the kernel specs share: an embedded server on a free port with a temporary log, machines
// and processes made through the SDK, /proc files read as numbers, and the replay check every
// spec ends with (the machine's log, replayed with all-in-one's registry, reproduces every state
// hash and every recorded decision).
import { expect } from 'vitest';
import { replayFile } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import type { MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { readLogFile } from '@mmsim/eventlog';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';

export { startEmbedded, type EmbeddedServer };

export const KiB = 1024;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const PAGE = 4096;

// mmap(2) constants (asm-generic/mman-common.h, x86-64).
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;

export interface MachineSpec {
  readonly ramBytes: number;
  readonly swapBytes?: number;
  readonly sysctls?: Readonly<Record<string, number>>;
  readonly seed?: number;
}

export async function createMachine(client: MmsimClient, name: string, spec: MachineSpec): Promise<MachineRef> {
  const machine: MachineRef = { tenant: client.tenant, machine: name };
  await client.machines.createMachine({
    machine,
    profile: 'linux-6.18',
    ramBytes: BigInt(spec.ramBytes),
    swapBytes: BigInt(spec.swapBytes ?? 0),
    cpus: 2,
    seed: BigInt(spec.seed ?? 7),
    sysctls: Object.entries(spec.sysctls ?? {}).map(([n, v]) => ({ name: n, value: String(v) })),
  });
  return machine;
}

export interface SpawnOptions {
  readonly uid?: number;
  readonly cgroup?: string;
  readonly oomScoreAdj?: number;
  readonly rlimits?: Readonly<Record<string, number>>;
  readonly brkStart?: number;
}

export async function spawn(client: MmsimClient, machine: MachineRef, name: string, o: SpawnOptions = {}): Promise<number> {
  const uid = o.uid ?? 1000;
  const r = await client.vma.spawn({
    machine,
    name,
    uid,
    euid: uid,
    nice: 0,
    parent: 0,
    oomScoreAdj: o.oomScoreAdj ?? 0,
    rlimits: Object.entries(o.rlimits ?? {}).map(([resource, v]) => ({ resource, soft: BigInt(v), hard: BigInt(v) })),
    capabilities: [],
    cgroup: o.cgroup ?? '',
    env: [],
    brkStart: BigInt(o.brkStart ?? 0),
  });
  return r.task!.pid;
}

/** mmap(2) through the Syscall RPC: the address, or -errno. */
export async function mmap(client: MmsimClient, machine: MachineRef, pid: number, length: number, o: { prot?: number; flags?: number; file?: string; fileSize?: number } = {}): Promise<number> {
  const prot = o.prot ?? PROT_READ | PROT_WRITE;
  const flags = o.flags ?? MAP_PRIVATE | MAP_ANONYMOUS;
  const r = await client.vma.syscall({ machine, pid, nr: 'mmap', args: [0n, BigInt(length), BigInt(prot), BigInt(flags), -1n, 0n], filePath: o.file ?? '', fileSize: BigInt(o.fileSize ?? (o.file ? length : 0)) });
  return Number(r.result);
}

export async function syscall(client: MmsimClient, machine: MachineRef, pid: number, nr: string, args: number[]): Promise<number> {
  const r = await client.vma.syscall({ machine, pid, nr, args: args.map(BigInt), filePath: '', fileSize: 0n });
  return Number(r.result);
}

export async function touch(client: MmsimClient, machine: MachineRef, pid: number, addr: number, length: number, write = true) {
  return client.vma.touch({ machine, pid, addr: BigInt(addr), length: BigInt(length), write });
}

/** A /proc file of name-value lines as numbers: "MemFree:  123 kB" (meminfo), "pgfault 5" (vmstat). */
export function parseProc(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):?\s+(-?\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export const meminfo = async (client: MmsimClient, machine: MachineRef) => parseProc((await client.readProc(machine, '/proc/meminfo')).text);
export const vmstat = async (client: MmsimClient, machine: MachineRef) => parseProc((await client.readProc(machine, '/proc/vmstat')).text);
export const status = async (client: MmsimClient, machine: MachineRef, pid: number) => parseProc((await client.readProc(machine, `/proc/${pid}/status`)).text);
export const readText = async (client: MmsimClient, machine: MachineRef, path: string) => (await client.readProc(machine, path)).text;

export async function sysctl(client: MmsimClient, machine: MachineRef, name: string, value?: number): Promise<number> {
  const r = await client.machines.sysctl({ machine, name, value: value === undefined ? '' : String(value) });
  return Number(r.value);
}

/**
 * The machine's log replays: every event decodes, applies and gives the state hash it recorded,
 * every recorded decision re-derives, up to the last event of each aggregate. Call it once the
 * server is stopped (or at least idle).
 */
export async function expectLogReplays(srv: EmbeddedServer, machine: string): Promise<{ envelopes: number }> {
  const file = srv.logFile(machine);
  const r = await replayFile(file, { registry: replayRegistry() });
  expect(r.divergence, JSON.stringify(r.divergence)).toBeUndefined();
  const last = new Map<string, { serviceSeq: number; stateHash: string }>();
  let n = 0;
  for await (const rec of readLogFile(file)) {
    for (const env of rec.envelopes) {
      last.set(env.service, { serviceSeq: Number(env.serviceSeq), stateHash: env.stateHash });
      n++;
    }
  }
  expect(r.envelopes).toBe(n);
  expect(r.aggregates.filter((a) => last.has(a.service)).map((a) => a.service).sort()).toEqual([...last.keys()].sort());
  for (const a of r.aggregates) {
    if (!last.has(a.service)) continue; // no event of that aggregate on this machine
    expect(a.replayed, a.service).toBe(true);
    expect(a.lastServiceSeq, a.service).toBe(last.get(a.service)?.serviceSeq);
    expect(a.stateHash, a.service).toBe(last.get(a.service)?.stateHash);
  }
  return { envelopes: n };
}
