// Infrastructure errors of the event log: one class per condition, `name` set, the backend's
// error chained as `cause`. They become ABORTED or UNAVAILABLE at the gRPC edge
// (packages/grpc) and are never written as events.

/**
 * Another writer appended a record of the same service to the machine: this writer's state is
 * stale (a second instance of the service), so it must stop writing for this machine.
 */
export class LogFencedError extends Error {
  override readonly name = 'LogFencedError';
  constructor(
    /** The machine's subject (or file). */
    readonly subject: string,
    /** The seq of the other writer's record. */
    readonly seq: number,
    readonly service: string,
    readonly serviceSeq: number,
    options?: ErrorOptions,
  ) {
    super(`${subject}: ${service} record #${serviceSeq} at seq ${seq} was written by another ${service} writer; this one is stale`, options);
  }
}

/** A position that cannot be this log's (ahead of its end, or inconsistent). */
export class LogPositionError extends Error {
  override readonly name = 'LogPositionError';
}

/** The log holds something it could not have written: bad checksum in the middle, a gap, a foreign record. */
export class LogCorruptError extends Error {
  override readonly name = 'LogCorruptError';
  constructor(
    readonly where: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${where}: ${message}`, options);
  }
}

/** The log directory is held by another writer (process). */
export class LogLockedError extends Error {
  override readonly name = 'LogLockedError';
}

/** The log was closed. */
export class LogClosedError extends Error {
  override readonly name = 'LogClosedError';
  constructor(options?: ErrorOptions) {
    super('the event log is closed', options);
  }
}

/** The backend could not be reached or refused the operation for a reason other than a conflict. */
export class LogUnavailableError extends Error {
  override readonly name = 'LogUnavailableError';
}

/** Appends kept conflicting with other writers past the retry limit. */
export class LogConflictError extends Error {
  override readonly name = 'LogConflictError';
}
