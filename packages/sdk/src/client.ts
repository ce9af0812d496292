// A typed client for all four services, on one endpoint or four.
import { credentials, InterceptingCall, type Client, type ClientOptions, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import {
  HeapServiceClient,
  LogServiceClient,
  MachineServiceClient,
  OomServiceClient,
  ProcServiceClient,
  VmaServiceClient,
  type MachineRef,
  type ReadProcResponse,
} from '@mmsim/proto';
import { allAt, DEFAULT_ENDPOINT, type Endpoints } from './endpoints.js';
import { promisify, type CallContext, type Unary } from './promisify.js';

export interface ConnectOptions {
  /** One server hosting all four services (default 127.0.0.1:50051). */
  readonly endpoint?: string;
  /** Four servers; wins over `endpoint`. */
  readonly endpoints?: Endpoints;
  /** Sent as `mmsim-tenant` metadata; machines belong to the tenant that created them. */
  readonly tenant?: string;
  /** Per-call deadline (default 60 s). */
  readonly timeoutMs?: number;
}

export interface MmsimClient {
  readonly endpoints: Endpoints;
  readonly tenant: string;
  readonly machines: Unary<InstanceType<typeof MachineServiceClient>>;
  readonly vma: Unary<InstanceType<typeof VmaServiceClient>>;
  readonly heap: Unary<InstanceType<typeof HeapServiceClient>>;
  readonly oom: Unary<InstanceType<typeof OomServiceClient>>;
  /** The raw clients, for streaming calls (Tail, Export, Exec). */
  readonly raw: {
    readonly log: InstanceType<typeof LogServiceClient>;
    readonly heap: InstanceType<typeof HeapServiceClient>;
  };
  readonly context: CallContext;
  /** Reads a /proc file from whichever service owns it. */
  readProc(machine: MachineRef, path: string): Promise<ReadProcResponse>;
  /** Resolves when every endpoint accepts connections, rejects after `timeoutMs`. */
  waitForReady(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Which service owns a /proc path (docs in proto/mmsim/v1/proc_service.proto). */
export function procOwner(path: string): keyof Endpoints {
  const p = path.replace(/^\/?proc\//, '').replace(/^\//, '');
  if (/^(meminfo|vmstat|buddyinfo|zoneinfo)$/.test(p)) return 'frames';
  if (/^\d+\/oom_score$/.test(p)) return 'oom';
  return 'vma';
}

export function connect(options: ConnectOptions = {}): MmsimClient {
  const endpoints = options.endpoints ?? allAt(options.endpoint ?? DEFAULT_ENDPOINT);
  const context: CallContext = { tenant: options.tenant ?? 'default', timeoutMs: options.timeoutMs ?? 60_000 };
  const creds = credentials.createInsecure();
  const made: Client[] = [];
  // Every call carries the tenant, the raw streaming ones (Tail, Export, Exec) included: a
  // machine, and its log, are its tenant's.
  const tenantMd: Interceptor = (opts, next) =>
    new InterceptingCall(next(opts), {
      start(metadata, listener, go) {
        if (metadata.get('mmsim-tenant').length === 0) metadata.set('mmsim-tenant', context.tenant);
        go(metadata, listener);
      },
    });
  const mk = <C extends Client>(Ctor: new (address: string, c: typeof creds, o: ClientOptions) => C, address: string): C => {
    const c = new Ctor(address, creds, { interceptors: [tenantMd] });
    made.push(c);
    return c;
  };
  const proc = {
    frames: mk(ProcServiceClient, endpoints.frames),
    vma: mk(ProcServiceClient, endpoints.vma),
    heap: mk(ProcServiceClient, endpoints.heap),
    oom: mk(ProcServiceClient, endpoints.oom),
  };
  const heapRaw = mk(HeapServiceClient, endpoints.heap);
  const logRaw = mk(LogServiceClient, endpoints.vma);
  return {
    endpoints,
    tenant: context.tenant,
    context,
    machines: promisify(mk(MachineServiceClient, endpoints.vma), context),
    vma: promisify(mk(VmaServiceClient, endpoints.vma), context),
    heap: promisify(heapRaw, context),
    oom: promisify(mk(OomServiceClient, endpoints.oom), context),
    raw: { log: logRaw, heap: heapRaw },
    readProc: (machine, path) => promisify(proc[procOwner(path)], context).readProc({ machine, path }),
    waitForReady: (timeoutMs = 5000) =>
      Promise.all(
        made.map(
          (c) =>
            new Promise<void>((resolve, reject) =>
              c.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
            ),
        ),
      ).then(() => undefined),
    close: () => made.forEach((c) => c.close()),
  };
}

/** True for a gRPC error that means nothing is listening there. */
export function isUnreachable(e: unknown): boolean {
  const code = (e as ServiceError | undefined)?.code;
  return code === 14 || /ECONNREFUSED|No connection established|Failed to connect/.test(String((e as Error | undefined)?.message));
}
