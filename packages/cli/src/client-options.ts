// The options every client command shares, and how they become a connection and a machine.
import type { ServiceError } from '@grpc/grpc-js';
import { connect, DEFAULT_ENDPOINT, parseEndpoints, checkEndpoint, type MmsimClient } from '@mmsim/sdk';
import type { MachineRef } from '@mmsim/proto';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';

export const CLIENT_OPTIONS: readonly OptionSpec[] = [
  { name: 'endpoint', type: 'string', valueName: 'HOST:PORT', description: `one server hosting all four services (default ${DEFAULT_ENDPOINT}, the embedded server)` },
  { name: 'endpoints', type: 'string', valueName: 'SVC=HOST:PORT,...', description: 'four servers: frames=H:P,vma=H:P,heap=H:P,oom=H:P' },
  { name: 'tenant', type: 'string', description: 'the tenant you act for (default: default)' },
];

export const MACHINE_OPTION: OptionSpec = { name: 'machine', short: 'm', type: 'string', description: 'the machine (default: the only one, or "demo")' };

export function clientOf(args: ParsedArgs): MmsimClient {
  const o = args.options;
  if (o.endpoint !== undefined && o.endpoints !== undefined) throw new UsageError('give --endpoint or --endpoints, not both');
  try {
    if (typeof o.endpoints === 'string') return connect({ endpoints: parseEndpoints(o.endpoints), tenant: o.tenant as string | undefined });
    return connect({ endpoint: checkEndpoint((o.endpoint as string | undefined) ?? DEFAULT_ENDPOINT), tenant: o.tenant as string | undefined });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** The machine named by --machine, else the tenant's only machine, else "demo" if it exists. */
export async function machineOf(client: MmsimClient, args: ParsedArgs): Promise<MachineRef> {
  const given = args.options.machine as string | undefined;
  if (given) return { tenant: client.tenant, machine: given };
  const list = await client.machines.listMachines({});
  const names = list.machines.map((m) => m.config?.ref?.machine ?? '');
  if (names.length === 1) return { tenant: client.tenant, machine: names[0] };
  if (names.includes('demo')) return { tenant: client.tenant, machine: 'demo' };
  if (names.length === 0) throw new UsageError('no machine exists yet (create one with `mmsim machine create NAME`, or run `mmsim demo`)');
  throw new UsageError(`several machines exist (${names.join(', ')}): name one with --machine`);
}

/** A gRPC error as one line a user can act on. */
export function describeGrpcError(e: unknown, endpoint: string): string | undefined {
  const se = e as Partial<ServiceError>;
  if (typeof se?.code !== 'number') return undefined;
  if (se.code === 14) return `cannot reach mmsim at ${endpoint} (is \`mmsim serve\` running? --endpoint/--endpoints name another server)`;
  if (se.code === 4) return `mmsim at ${endpoint} did not answer in time`;
  const names: Record<number, string> = { 3: 'invalid argument', 5: 'not found', 7: 'permission denied', 8: 'resource exhausted', 9: 'failed precondition', 10: 'aborted', 13: 'internal error', 16: 'unauthenticated' };
  return `${names[se.code] ?? `error ${se.code}`}: ${se.details ?? se.message}`;
}

export const kb = (n: bigint | number): string => `${Number(n).toLocaleString('en-US')} kB`;
