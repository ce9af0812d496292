// The oom service: the OOM policy in a host. It calls nobody: vma sends OutOfMemory and Tick.
import type { Bus, Subscription } from '@mmsim/bus';
import { eventCodecs, type AnyEventCodec, type EventLog } from '@mmsim/eventlog';
import type { GrpcServiceRegistration, ProcReader } from '@mmsim/grpc';
import { createAggregateHost, serveHost, type AggregateHost, type HostLogger } from '@mmsim/host';
import { oom, type OomCommand, type OomEvent, type OomState } from '@mmsim/kernel/oom';
import { oomGrpc } from './grpc/oom-grpc.js';

export type OomHost = AggregateHost<OomCommand, OomEvent, OomState>;

export interface OomServiceOptions {
  readonly log: EventLog;
  readonly bus: Bus;
  readonly logger?: HostLogger;
}

export interface OomService {
  readonly host: OomHost;
  readonly grpc: readonly GrpcServiceRegistration[];
  readonly proc: ProcReader;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createOomService(opts: OomServiceOptions): OomService {
  const host = createAggregateHost<OomCommand, OomEvent, OomState>({
    aggregate: oom,
    codec: eventCodecs.oom as AnyEventCodec<OomEvent>,
    log: opts.log,
    logger: opts.logger,
  });
  const subs: Subscription[] = [];
  return {
    host,
    grpc: [oomGrpc(host, opts.bus, opts.log)],
    // /proc/<pid>/oom_score is computed by vma from the same badness functions.
    proc: () => undefined,
    async start() {
      await host.start();
      subs.push(await serveHost(opts.bus, host));
    },
    async close() {
      for (const s of subs) await s.stop();
      await host.close();
    },
  };
}
