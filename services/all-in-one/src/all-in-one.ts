// The embedded default: the four services in one process, an in-process bus, a file log per
// machine, one gRPC server with every API. The same services as the distributed mode; only
// the bus and the log differ.
import { mkdirSync } from 'node:fs';
import { InProcessBus } from '@mmsim/bus';
import { FileEventLog, type EventLog } from '@mmsim/eventlog';
import { DEFAULT_GRPC_LISTEN, logService, procService, startGrpcServer, type GrpcServerHandle } from '@mmsim/grpc';
import type { HostLogger } from '@mmsim/host';
import { createFramesService } from '@mmsim/service-frames';
import { createHeapService } from '@mmsim/service-heap';
import { createOomService } from '@mmsim/service-oom';
import { createVmaService, type TenantQuota } from '@mmsim/service-vma';
import { replayRegistry } from './registry.js';

export interface AllInOneOptions {
  /** Where the machine logs live (default .mmsim/log). */
  readonly logDir?: string;
  /** host:port, port 0 for any (default 127.0.0.1:50051). */
  readonly listen?: string;
  /** Export and Replay paths are resolved inside it (default: logDir/../export). */
  readonly exportDir?: string;
  readonly logger?: HostLogger;
  /** fdatasync each append (default false: survives a process crash, not a power cut). */
  readonly fsync?: boolean;
  /** Per-tenant limits on machines (mmsim serve --max-machines, --max-ram). */
  readonly tenantQuota?: TenantQuota;
}

export interface AllInOne {
  readonly address: string;
  readonly log: EventLog;
  readonly logDir: string;
  readonly grpc: GrpcServerHandle;
  stop(): Promise<void>;
}

export const DEFAULT_LOG_DIR = '.mmsim/log';

export async function startAllInOne(opts: AllInOneOptions = {}): Promise<AllInOne> {
  const logDir = opts.logDir ?? DEFAULT_LOG_DIR;
  const exportDir = opts.exportDir ?? `${logDir}/../export`;
  mkdirSync(logDir, { recursive: true });
  mkdirSync(exportDir, { recursive: true });
  const log = await FileEventLog.open(logDir, { fsync: opts.fsync });
  const bus = new InProcessBus();
  const deps = { log, bus, logger: opts.logger };
  const frames = createFramesService(deps);
  const oom = createOomService(deps);
  const vma = createVmaService({ ...deps, tenantQuota: opts.tenantQuota });
  const heap = createHeapService(deps);
  try {
    // Leaves first: a rebuilt vma may be asked to go on at once.
    await frames.start();
    await oom.start();
    await vma.start();
    await heap.start();
    const grpc = await startGrpcServer({
      listen: opts.listen ?? DEFAULT_GRPC_LISTEN,
      services: [...vma.grpc, ...heap.grpc, ...oom.grpc, procService([frames.proc, vma.proc, oom.proc]), logService({ log, registry: replayRegistry(), exportDir })],
    });
    return {
      address: grpc.address,
      log,
      logDir,
      grpc,
      async stop() {
        await grpc.stop();
        await heap.close();
        await vma.close();
        await oom.close();
        await frames.close();
        await bus.close();
        await log.close();
      },
    };
  } catch (e) {
    await log.close();
    throw e;
  }
}
