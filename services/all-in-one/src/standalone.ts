// One service in its own process: NATS request/reply to the others, JetStream as the log,
// its own gRPC server (its APIs, ProcService for the files it owns, LogService, health,
// reflection).
import { connectNatsBus } from '@mmsim/bus';
import { JetStreamEventLog } from '@mmsim/eventlog';
import { logService, procService, startGrpcServer, type GrpcServerHandle, type GrpcServiceRegistration, type ProcReader } from '@mmsim/grpc';
import type { HostLogger } from '@mmsim/host';
import type { ServiceName } from '@mmsim/kernel';
import { createFramesService } from '@mmsim/service-frames';
import { createOomService } from '@mmsim/service-oom';
import { createVmaService, type TenantQuota } from '@mmsim/service-vma';
import { createHeapService } from '@mmsim/service-heap';
import { replayRegistry } from './registry.js';

export interface StandaloneOptions {
  readonly service: ServiceName;
  /** NATS URL(s), e.g. nats://127.0.0.1:4222. */
  readonly nats: string;
  readonly listen: string;
  readonly exportDir?: string;
  readonly logger?: HostLogger;
  /** vma only: per-tenant limits on machines (mmsim serve --max-machines, --max-ram). */
  readonly tenantQuota?: TenantQuota;
}

export interface Standalone {
  readonly service: ServiceName;
  readonly address: string;
  readonly grpc: GrpcServerHandle;
  stop(): Promise<void>;
}

export async function startStandalone(opts: StandaloneOptions): Promise<Standalone> {
  const bus = await connectNatsBus({ servers: opts.nats.split(','), name: `mmsim-${opts.service}` });
  const log = await JetStreamEventLog.open(bus.connection);
  const deps = { log, bus, logger: opts.logger };
  let svc: { start(): Promise<void>; close(): Promise<void>; proc: ProcReader; grpc?: readonly GrpcServiceRegistration[] };
  switch (opts.service) {
    case 'frames':
      svc = createFramesService(deps);
      break;
    case 'vma':
      svc = createVmaService({ ...deps, tenantQuota: opts.tenantQuota });
      break;
    case 'oom':
      svc = createOomService(deps);
      break;
    case 'heap':
      svc = createHeapService(deps);
      break;
  }
  try {
    await svc.start();
    const grpc = await startGrpcServer({
      listen: opts.listen,
      services: [...(svc.grpc ?? []), procService([svc.proc]), logService({ log, registry: replayRegistry(), exportDir: opts.exportDir })],
    });
    return {
      service: opts.service,
      address: grpc.address,
      grpc,
      async stop() {
        await grpc.stop();
        await svc.close();
        await log.close();
        await bus.close();
      },
    };
  } catch (e) {
    await svc.close().catch(() => undefined);
    await log.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    throw e;
  }
}
