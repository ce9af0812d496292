// A bad call is a Rejection thrown by decide() before any event exists. It crosses NATS and
// gRPC as { code, kind, message }, so callers match on `code`, never on instanceof.

export type RejectionKind = 'invalid' | 'not-found' | 'precondition' | 'quota' | 'permission';

export interface RejectionInfo {
  readonly code: string; // '<aggregate>.<CONDITION>', e.g. 'vma.NO_SUCH_PID'
  readonly kind: RejectionKind;
  readonly message: string;
}

export class Rejection extends Error implements RejectionInfo {
  override readonly name = 'Rejection';
  readonly code: string;
  readonly kind: RejectionKind;
  constructor(code: string, kind: RejectionKind, message: string) {
    super(message);
    this.code = code;
    this.kind = kind;
  }
  toJSON(): RejectionInfo {
    return { code: this.code, kind: this.kind, message: this.message };
  }
}

export const invalid = (code: string, message: string): Rejection => new Rejection(code, 'invalid', message);
export const notFound = (code: string, message: string): Rejection => new Rejection(code, 'not-found', message);
export const precondition = (code: string, message: string): Rejection => new Rejection(code, 'precondition', message);
export const quota = (code: string, message: string): Rejection => new Rejection(code, 'quota', message);

export function isRejection(e: unknown): e is RejectionInfo {
  return typeof e === 'object' && e !== null && 'code' in e && 'kind' in e && 'message' in e
    && typeof (e as RejectionInfo).code === 'string';
}

/** Validation helpers for command fields; each throws an 'invalid' Rejection naming the field. */
export function requireInt(code: string, field: string, v: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(code, `${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}
