// A gRPC server with mmsim's defaults: the services given, the standard health service and
// server reflection (from the descriptor set, so grpcurl and `buf curl` need no .proto files).
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { PackageDefinition } from '@grpc/proto-loader';
import { loadDescriptorSet } from './descriptor.js';
import { tolerantDefinition } from './malformed.js';

export const DEFAULT_GRPC_LISTEN = '127.0.0.1:50051';

export interface GrpcServiceRegistration {
  /** The generated service definition (ts-proto outputServices=grpc-js: e.g. LogServiceService). */
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  /** host:port; port 0 picks a free one (default 127.0.0.1:50051). */
  readonly listen?: string;
  readonly services: readonly GrpcServiceRegistration[];
  /**
   * Server reflection: true (default) from packages/proto/descriptor.binpb, a package
   * definition, or false. Only the services registered here are listed. (Health is not:
   * protobufjs rebuilds health.proto's map entry under a name Go's protodesc rejects, which
   * breaks grpcurl and buf curl; see README for checking health.)
   */
  readonly reflection?: boolean | PackageDefinition;
  /** grpc.health.v1.Health (default true): '' and each service report SERVING. */
  readonly health?: boolean;
}

export interface GrpcServerHandle {
  /** The address bound, with the real port ("127.0.0.1:50123"). */
  readonly address: string;
  readonly port: number;
  readonly server: Server;
  /** Set a service's (or '' for the server's) health status. */
  setHealth(service: string, status: ServingStatus): void;
  /** Graceful shutdown, forced after `graceMs` (default 5000). */
  stop(graceMs?: number): Promise<void>;
}

/** The fully-qualified name of a service from its first method's path ("/mmsim.v1.LogService/Tail"). */
export function serviceName(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0] as { path: string } | undefined;
  return first ? first.path.split('/')[1] : '';
}

export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const server = new Server();
  const names = opts.services.map((s) => serviceName(s.definition));
  for (const s of opts.services) server.addService(tolerantDefinition(s.definition), s.implementation);
  let health: HealthImplementation | undefined;
  if (opts.health ?? true) {
    health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(names.map((n) => [n, 'SERVING' as const])) });
    health.addToServer(server);
  }
  const reflection = opts.reflection ?? true;
  if (reflection !== false) {
    const pkg = reflection === true ? loadDescriptorSet() : reflection;
    new ReflectionService(pkg, { services: names }).addToServer(server);
  }
  const listen = opts.listen ?? DEFAULT_GRPC_LISTEN;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    port,
    server,
    setHealth: (service, status) => health?.setStatus(service, status),
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        for (const n of ['', ...names]) health?.setStatus(n, 'NOT_SERVING');
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
