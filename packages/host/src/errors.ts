// Errors of the aggregate host: a decide() that breaks the Need protocol, a state that does not
// rebuild to its recorded hash, a retried request whose answer is gone. Classes with `name` set.

/** decide() broke the Need protocol (asked out of order, asked a service above it, asked forever). */
export class AggregateProtocolError extends Error {
  override readonly name = 'AggregateProtocolError';
}

/** Rebuilding a machine from the log did not end in the state hash the log recorded. */
export class StateHashMismatchError extends Error {
  override readonly name = 'StateHashMismatchError';
  constructor(
    readonly service: string,
    readonly machine: string,
    readonly seq: number,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${service} ${machine}: state hash after seq ${seq} is ${got}, the log says ${expected} (a model change since the log was written?)`);
  }
}

/** A request id already applied, whose answer can no longer be computed (later commands changed the state). */
export class DuplicateRequestError extends Error {
  override readonly name = 'DuplicateRequestError';
  constructor(
    readonly requestId: string,
    readonly seqs: readonly number[],
  ) {
    super(`request ${requestId} was already applied (seqs ${seqs.join(', ')}); its answer is no longer available`);
  }
}
