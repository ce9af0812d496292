// heap calls through gRPC: malloc/free per second in the embedded mode (all four services in
// this process, the file log), unary and on the Exec stream in batches, next to an empty gRPC
// call's rate (the standard health check, and ListMachines) measured in the same run.
//
//   npx tsx bench/grpc-heap.ts [--seconds S]
//
// bench/nats-heap.ts is the same over NATS, the heap service its own process. The workloads
// below are shared with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { ExecRequest, ExecResponse, HeapOp, MachineRef } from '@mmsim/proto';
import { connect, type MmsimClient } from '@mmsim/sdk';
import { startAllInOne } from '@mmsim/service-all-in-one';

export interface Rate {
  /** Operations per second of wall time. */
  readonly wall: number;
  /** Per CPU-second of this process (embedded: client and server; distributed: the client only). */
  readonly cpu: number;
  readonly ops: number;
}

export const seconds = (): number => {
  const i = process.argv.indexOf('--seconds');
  return i > 0 ? Number(process.argv[i + 1]) : 3;
};

/** Runs `step` (which returns operations done) for `s` seconds after a warm-up; the best of `rounds`. */
export async function rate(step: () => Promise<number>, s = seconds(), rounds = 3): Promise<Rate> {
  const warm = performance.now();
  while (performance.now() - warm < 300) await step();
  let best: Rate = { wall: 0, cpu: 0, ops: 0 };
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < (s * 1000) / rounds) ops += await step();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    if (ops / wall > best.wall) best = { wall: ops / wall, cpu: ops / cpu, ops };
  }
  return best;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** grpc.health.v1.Health/Check: the cheapest call a server answers (no mmsim code). */
export function healthCheck(address: string): { step: () => Promise<number>; close(): void } {
  const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
  const h = new Health(address, credentials.createInsecure()) as unknown as { check: (r: object, cb: (e: unknown) => void) => void; close(): void };
  return {
    step: () => new Promise((resolve, reject) => h.check({ service: '' }, (e) => (e ? reject(e) : resolve(1)))),
    close: () => h.close(),
  };
}

export interface HeapWorkloads {
  /** One malloc(64) then its free, one call at a time: 2 operations. */
  unaryPair(): Promise<number>;
  /** `n` processes each doing unaryPair at once (calls of one machine queue behind each other). */
  unaryConcurrent(n: number): () => Promise<number>;
  /** `batch` mallocs in one Exec request, then their frees in the next: 2 * batch operations. */
  exec(batch: number): () => Promise<number>;
  close(): void;
}

export async function heapWorkloads(client: MmsimClient, machine: MachineRef, processes: number): Promise<HeapWorkloads> {
  const pids: number[] = [];
  for (let i = 0; i < processes; i++) {
    const r = await client.vma.spawn({ machine, name: `bench${i}`, uid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n });
    pids.push(r.task!.pid);
  }
  const pair = async (pid: number): Promise<number> => {
    const target = { machine, pid, tid: 0 };
    const m = await client.heap.malloc({ target, size: 64n });
    await client.heap.free({ target, ptr: m.result!.value });
    return 2;
  };
  const stream = client.raw.heap.exec() as ClientDuplexStream<ExecRequest, ExecResponse>;
  const waiting: ((r: ExecResponse) => void)[] = [];
  stream.on('data', (r: ExecResponse) => waiting.shift()?.(r));
  stream.on('error', (e) => {
    throw e;
  });
  const exec = (ops: HeapOp[]): Promise<ExecResponse> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      stream.write({ ops });
    });
  return {
    unaryPair: () => pair(pids[0]),
    unaryConcurrent: (n) => async () => (await Promise.all(pids.slice(0, n).map(pair))).reduce((a, b) => a + b, 0),
    exec: (batch) => async () => {
      const target = { machine, pid: pids[0], tid: 0 };
      const got = await exec(Array.from({ length: batch }, () => ({ op: { $case: 'malloc' as const, value: { target, size: 64n } } })));
      await exec(got.results.map((r) => ({ op: { $case: 'free' as const, value: { target, ptr: r.value } } })));
      return 2 * batch;
    },
    close: () => stream.end(),
  };
}

/** Prints the table rows for one server (`client` reaches all four services). */
export async function heapTable(client: MmsimClient, machine: MachineRef, healthAt: string, cpuNote: string): Promise<void> {
  const health = healthCheck(healthAt);
  const w = await heapWorkloads(client, machine, 8);
  const rows: [string, Rate][] = [];
  rows.push(['empty call: grpc.health.v1.Health/Check', await rate(health.step)]);
  rows.push(['trivial call: MachineService/ListMachines', await rate(async () => (await client.machines.listMachines({}), 1))]);
  rows.push(['malloc(64) + free, unary, 1 in flight', await rate(() => w.unaryPair())]);
  rows.push(['malloc(64) + free, unary, 8 processes at once', await rate(w.unaryConcurrent(8))]);
  for (const b of [1, 16, 256]) rows.push([`malloc(64) x${b} + free x${b}, Exec batches`, await rate(w.exec(b))]);
  const empty = rows[0][1].wall;
  console.log(`| call | ops/s (wall) | ops per CPU-second ${cpuNote} | empty calls per op |`);
  console.log('|---|---:|---:|---:|');
  for (const [label, r] of rows) console.log(`| ${label} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${(empty / r.wall).toFixed(1)} |`);
  w.close();
  health.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-bench-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
  const server = await startAllInOne({ listen: '127.0.0.1:0', logDir: join(dir, 'log'), exportDir: join(dir, 'export'), logger: quiet });
  const client = connect({ endpoint: server.address });
  try {
    const machine = { tenant: 'default', machine: 'bench' };
    await client.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 4n * 2n ** 30n, swapBytes: 0n, cpus: 2, seed: 1n, sysctls: [] });
    console.log(`node ${process.version}; embedded (all-in-one, file log in ${dir}); ${seconds()} s per row, best of 3`);
    await heapTable(client, machine, server.address, '(client + server)');
    const tip = await server.log.tip(machine);
    console.log(`\nlog: ${tip?.seq ?? 0} events written`);
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
