// Infrastructure errors of the bus: one class per condition, `name` set, the transport's error
// chained as `cause` (after nats.js's core/src/errors.ts). Code that must recognize them across
// packages (the gRPC status table) matches on `name`, never on instanceof.
import type { RejectionInfo, RejectionKind } from '@mmsim/kernel';

/** Nobody serves the subject. */
export class NoRespondersError extends Error {
  override readonly name = 'NoRespondersError';
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`no responders for ${subject}`, options);
  }
}

/** The request got no reply in time. The handler may still have run. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no reply from ${subject} within ${timeoutMs} ms`, options);
  }
}

/** The bus was closed (or its connection lost for good). */
export class BusClosedError extends Error {
  override readonly name = 'BusClosedError';
  constructor(options?: ErrorOptions) {
    super('the bus is closed', options);
  }
}

/** A payload could not be encoded or a reply could not be decoded. */
export class BusCodecError extends Error {
  override readonly name = 'BusCodecError';
}

/**
 * A Rejection thrown by the handler on the other side, rebuilt on the caller's side: it has
 * the same { code, kind, message }, so it passes isRejection() and maps to the same gRPC status.
 */
export class RemoteRejection extends Error implements RejectionInfo {
  override readonly name = 'Rejection';
  constructor(
    readonly code: string,
    readonly kind: RejectionKind,
    message: string,
    readonly subject: string,
  ) {
    super(message);
  }
  toJSON(): RejectionInfo {
    return { code: this.code, kind: this.kind, message: this.message };
  }
}

/**
 * Any other error thrown by the handler on the other side. `remoteName` is its `name`
 * (LogFencedError, NoRespondersError...), so the caller's edge can map it like a local one.
 */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly subject: string,
    readonly remoteName: string,
    message: string,
  ) {
    super(`${subject}: ${remoteName}: ${message}`);
  }
}
