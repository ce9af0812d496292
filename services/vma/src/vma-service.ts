// The vma service: the vm aggregate in a host, its gRPC APIs, its bus endpoints (commands
// from heap, queries from anyone).
import type { Bus, Subscription } from '@mmsim/bus';
import { rpcSubject } from '@mmsim/bus';
import { eventCodecs, type AnyEventCodec, type EventLog, type MachineRef } from '@mmsim/eventlog';
import type { GrpcServiceRegistration, ProcReader } from '@mmsim/grpc';
import { busAsk, createAggregateHost, serveHost, type AggregateHost, type HostLogger } from '@mmsim/host';
import { vm, type VmCommand, type VmEvent, type VmState } from '@mmsim/kernel/vm';
import { machineGrpc } from './grpc/machine-grpc.js';
import { vmaGrpc } from './grpc/vma-grpc.js';
import { readVmaProcNow } from './proc.js';
import { runVmaQuery, type VmaQuery } from './queries.js';
import type { TenantQuota } from './tenant-quota.js';

export type VmaHost = AggregateHost<VmCommand, VmEvent, VmState>;

export interface VmaServiceOptions {
  readonly log: EventLog;
  readonly bus: Bus;
  readonly logger?: HostLogger;
  /** Per Need round trip (default 30 s). */
  readonly askTimeoutMs?: number;
  /** Per-tenant limits on CreateMachine (default: none). */
  readonly tenantQuota?: TenantQuota;
}

export interface VmaService {
  readonly host: VmaHost;
  /** MachineService and VmaService. */
  readonly grpc: readonly GrpcServiceRegistration[];
  readonly proc: ProcReader;
  /** Rebuilds from the log, then answers on the bus. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const VMA_QUERY_OP = 'query';

export function createVmaService(opts: VmaServiceOptions): VmaService {
  const host = createAggregateHost<VmCommand, VmEvent, VmState>({
    aggregate: vm,
    codec: eventCodecs.vma as AnyEventCodec<VmEvent>,
    log: opts.log,
    ask: busAsk(opts.bus, { timeoutMs: opts.askTimeoutMs ?? 30_000 }),
    simTimeNs: (s) => s.sc.clockNs,
    logger: opts.logger,
  });
  const subs: Subscription[] = [];
  return {
    host,
    grpc: [machineGrpc(host, opts.bus, opts.tenantQuota), vmaGrpc(host, opts.bus)],
    proc: (m, path) => readVmaProcNow(host, busAsk(opts.bus), m, path),
    async start() {
      await host.start();
      subs.push(await serveHost(opts.bus, host));
      subs.push(
        await opts.bus.serve(
          rpcSubject('vma', VMA_QUERY_OP),
          (payload) => {
            const p = payload as { machine: MachineRef; query: VmaQuery };
            const answer = host.query(p.machine, (s) => runVmaQuery(s, p.query, p.machine.machine));
            // A process summary (or the list of gone ones) also says where vma's log position is:
            // the heap takes a process on (or forgets it) right after asking, and appends after
            // vma's records without a conflict (in JetStream, a 10071 round and a read of every
            // record it missed).
            return p.query.type === 'Process' || p.query.type === 'Gone' ? { ...(answer as object), position: host.position(p.machine) } : answer;
          },
          { queue: 'vma' },
        ),
      );
    },
    async close() {
      for (const s of subs) await s.stop();
      await host.close();
    },
  };
}
