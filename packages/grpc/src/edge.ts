// What every gRPC adapter does at the edge: find the caller's tenant, check the machine it
// names, and turn protobuf's 64-bit integers into exact numbers (or refuse them).
import type { Metadata } from '@grpc/grpc-js';
import { invalid, Rejection } from '@mmsim/kernel';

export const TENANT_METADATA_KEY = 'mmsim-tenant';
export const REQUEST_ID_METADATA_KEY = 'mmsim-request-id';
export const DEFAULT_TENANT = 'default';

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

interface HasMetadata {
  readonly metadata: Metadata;
}

/** The tenant the caller speaks for ("default" when the metadata has none). */
export function callerTenant(call: HasMetadata): string {
  const v = call.metadata.get(TENANT_METADATA_KEY)[0];
  const t = typeof v === 'string' ? v : DEFAULT_TENANT;
  if (!TOKEN.test(t)) throw invalid('edge.INVALID_TENANT', `tenant "${t}" must be 1-128 of [A-Za-z0-9_-]`);
  return t;
}

/** The client's request id, for de-duplicating retries ('' when none). */
export function requestId(call: HasMetadata): string {
  const v = call.metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof v === 'string' ? v.slice(0, 200) : '';
}

export interface MachineRefLike {
  readonly tenant: string;
  readonly machine: string;
}

/**
 * The machine a request names, owned by the caller's tenant. An empty tenant means the
 * caller's; another tenant's machine is refused.
 */
export function machineOf(call: HasMetadata, ref: MachineRefLike | undefined): MachineRefLike {
  const tenant = callerTenant(call);
  if (!ref || ref.machine === '') throw invalid('edge.NO_MACHINE', 'the request names no machine (machine.machine is empty)');
  if (!TOKEN.test(ref.machine)) throw invalid('edge.INVALID_MACHINE', `machine "${ref.machine}" must be 1-128 of [A-Za-z0-9_-]`);
  if (ref.tenant !== '' && ref.tenant !== tenant) {
    throw new Rejection('edge.OTHER_TENANT', 'permission', `machine ${ref.tenant}/${ref.machine} belongs to tenant ${ref.tenant}, not ${tenant}`);
  }
  return { tenant, machine: ref.machine };
}

/** A uint64/int64 field as an exact number; refuses values beyond 2^53. */
export function num(v: bigint | number | undefined, field: string, min = 0): number {
  if (v === undefined) return 0;
  const n = typeof v === 'bigint' ? v : BigInt(v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(min) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalid('edge.OUT_OF_RANGE', `${field} = ${n} is out of range (${min}..2^53-1)`);
  }
  return Number(n);
}

/** A 32-bit field that must be positive (a pid). */
export function pidOf(v: number | undefined, field = 'pid'): number {
  if (v === undefined || !Number.isInteger(v) || v <= 0) throw invalid('edge.INVALID_PID', `${field} must be a positive integer, got ${String(v)}`);
  return v;
}

export const big = (n: number): bigint => BigInt(n);
