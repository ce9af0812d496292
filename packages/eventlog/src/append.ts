// What both logs do the same way: check an append request and build its envelopes.
import { checkToken } from '@mmsim/bus';
import type { Envelope } from '@mmsim/proto';
import type { AppendRequest, ReadOptions } from './event-log.js';

const HASH = /^[0-9a-f]{16}$/;

export class AppendRequestError extends Error {
  override readonly name = 'AppendRequestError';
}

/** Throws AppendRequestError for a request no log should take. */
export function checkAppend(req: AppendRequest): void {
  checkToken('tenant', req.machine.tenant);
  checkToken('machine', req.machine.machine);
  if (req.events.length === 0) throw new AppendRequestError('an append needs at least one event');
  for (const e of req.events) {
    if (e.event.$case !== req.service) throw new AppendRequestError(`a ${req.service} append holds a ${e.event.$case} event`);
    if (!HASH.test(e.stateHash)) throw new AppendRequestError(`state hash ${JSON.stringify(e.stateHash)} is not 16 hex digits`);
    if (e.simTimeNs < 0n) throw new AppendRequestError('negative simulated time');
  }
}

/** The envelopes of an append, numbered from `seq` and `serviceSeq`. */
export function buildEnvelopes(req: AppendRequest, seq: number, serviceSeq: number): Envelope[] {
  return req.events.map((e, i) => ({
    tenant: req.machine.tenant,
    machine: req.machine.machine,
    seq: BigInt(seq + i),
    service: req.service,
    serviceSeq: BigInt(serviceSeq + i),
    simTimeNs: e.simTimeNs,
    cause: { requestId: req.cause.requestId, parentSeq: BigInt(req.cause.parentSeq) },
    stateHash: e.stateHash,
    modelVersion: req.modelVersion,
    event: e.event,
  }));
}

/** The envelopes of a record that fall in [fromSeq, toSeq]. */
export function* envelopesInRange(envelopes: readonly Envelope[], opts: ReadOptions): Generator<Envelope> {
  const from = BigInt(opts.fromSeq ?? 1);
  const to = opts.toSeq === undefined ? undefined : BigInt(opts.toSeq);
  for (const e of envelopes) if (e.seq >= from && (to === undefined || e.seq <= to)) yield e;
}
