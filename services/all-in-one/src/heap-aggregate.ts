// The heap aggregate and service, once packages/kernel/src/heap/aggregate lands. (Temporary shim.)
import type { Aggregate } from '@mmsim/kernel';
import type { Bus } from '@mmsim/bus';
import type { EventLog } from '@mmsim/eventlog';
import type { GrpcServiceRegistration, ProcReader } from '@mmsim/grpc';
import type { HostLogger } from '@mmsim/host';

export const heapAggregate: Aggregate<unknown, unknown, unknown> | null = null;

export function createHeapServiceIfAvailable(_deps: { log: EventLog; bus: Bus; logger?: HostLogger }): { start(): Promise<void>; close(): Promise<void>; proc: ProcReader; grpc: readonly GrpcServiceRegistration[] } | null {
  return null;
}
