// One table from mmsim's errors to gRPC status codes (docs/architecture.md "Errors").
// Rejection-like errors are matched on `code`/`kind` (they cross NATS as data, so instanceof
// would not work); infrastructure errors on their `name` (or, relayed over the bus, their
// `remoteName`). Anything else is a bug: INTERNAL, and logged.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isRejection, type RejectionKind } from '@mmsim/kernel';

export const REJECTION_STATUS: Readonly<Record<RejectionKind, status>> = {
  invalid: status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  precondition: status.FAILED_PRECONDITION,
  quota: status.RESOURCE_EXHAUSTED,
  permission: status.PERMISSION_DENIED,
};

/**
 * Infrastructure errors by name. ABORTED: the call lost a race with another writer or request
 * and may be retried after re-reading; UNAVAILABLE: a dependency is down or closed, retry later.
 */
export const INFRASTRUCTURE_STATUS: Readonly<Record<string, status>> = {
  LogFencedError: status.ABORTED,
  LogConflictError: status.ABORTED,
  LogPositionError: status.ABORTED,
  DuplicateRequestError: status.ABORTED,
  NoRespondersError: status.UNAVAILABLE,
  RequestTimeoutError: status.UNAVAILABLE,
  BusClosedError: status.UNAVAILABLE,
  LogUnavailableError: status.UNAVAILABLE,
  LogClosedError: status.UNAVAILABLE,
  LogLockedError: status.UNAVAILABLE,
  HostClosedError: status.UNAVAILABLE,
};

/** Trailing metadata keys that carry the error's identity to clients. */
export const REJECTION_CODE_KEY = 'mmsim-rejection-code';
export const REJECTION_KIND_KEY = 'mmsim-rejection-kind';
export const ERROR_NAME_KEY = 'mmsim-error';

export interface ErrorLogger {
  error(message: string, error?: unknown): void;
}

const KINDS = Object.keys(REJECTION_STATUS) as RejectionKind[];

/** The gRPC error a thrown value becomes. `where` names the method for the log. */
export function toServiceError(e: unknown, where: string, logger: ErrorLogger = console): Partial<ServiceError> {
  const metadata = new Metadata();
  if (isRejection(e) && (KINDS as string[]).includes(e.kind)) {
    metadata.set(REJECTION_CODE_KEY, e.code);
    metadata.set(REJECTION_KIND_KEY, e.kind);
    return { code: REJECTION_STATUS[e.kind], details: `${e.code}: ${e.message}`, metadata };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const remote = (err as { remoteName?: unknown }).remoteName;
  const name = typeof remote === 'string' ? remote : err.name;
  const code = INFRASTRUCTURE_STATUS[name];
  if (code !== undefined) {
    metadata.set(ERROR_NAME_KEY, name);
    return { code, details: `${name}: ${err.message}`, metadata };
  }
  logger.error(`${where}: internal error`, err);
  metadata.set(ERROR_NAME_KEY, err.name);
  return { code: status.INTERNAL, details: `internal error (${err.name}: ${err.message})`, metadata };
}
