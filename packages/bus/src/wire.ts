// The bus's wire format, the same for NATS and the in-process bus:
//
//   request or published message   UTF-8 JSON of the payload
//   reply                          UTF-8 JSON of one of
//                                    { "ok": <value> }
//                                    { "rejection": { "code", "kind", "message" } }
//                                    { "error": { "name", "message" } }
//
// JSON keeps the messages readable with `nats sub` / `nats req` and needs no schema per op;
// the services' messages are small and the kernel's types are plain data. bigint values are
// written as { "$bigint": "<decimal>" } and read back as bigint; `undefined` object members are
// dropped, as JSON does. Rejections are data here, so callers match on `code`.
import { isRejection, type RejectionInfo, type RejectionKind } from '@mmsim/kernel';
import { BusCodecError, RemoteError, RemoteRejection } from './errors.js';

export type WireReply =
  | { readonly ok: unknown }
  | { readonly rejection: RejectionInfo }
  | { readonly error: { readonly name: string; readonly message: string } };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const replacer = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? { $bigint: v.toString() } : v);

function reviver(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$bigint === 'string' && Object.keys(o).length === 1) return BigInt(o.$bigint);
  }
  return v;
}

export function encodeJson(value: unknown): Uint8Array {
  try {
    return encoder.encode(JSON.stringify(value === undefined ? null : value, replacer));
  } catch (e) {
    throw new BusCodecError(`payload is not JSON-encodable: ${(e as Error).message}`, { cause: e });
  }
}

export function decodeJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes), reviver);
  } catch (e) {
    throw new BusCodecError(`payload is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

const KINDS: readonly RejectionKind[] = ['invalid', 'not-found', 'precondition', 'quota', 'permission'];

/** The reply a handler's error becomes: a Rejection stays a rejection, anything else an error. */
export function errorReply(e: unknown): WireReply {
  if (isRejection(e) && (KINDS as readonly string[]).includes(e.kind)) {
    return { rejection: { code: e.code, kind: e.kind, message: e.message } };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  // A RemoteError relayed from further down keeps the name of the original error.
  const name = err instanceof RemoteError ? err.remoteName : err.name;
  return { error: { name, message: err.message } };
}

/** The value of a reply, or throws what the handler threw (as RemoteRejection / RemoteError). */
export function unwrapReply(subject: string, reply: unknown): unknown {
  if (typeof reply === 'object' && reply !== null) {
    const r = reply as Record<string, unknown>;
    if ('ok' in r) return r.ok;
    if (typeof r.rejection === 'object' && r.rejection !== null) {
      const j = r.rejection as Record<string, unknown>;
      if (typeof j.code === 'string' && typeof j.message === 'string' && (KINDS as readonly unknown[]).includes(j.kind)) {
        throw new RemoteRejection(j.code, j.kind as RejectionKind, j.message, subject);
      }
    }
    if (typeof r.error === 'object' && r.error !== null) {
      const j = r.error as Record<string, unknown>;
      throw new RemoteError(subject, String(j.name), String(j.message));
    }
  }
  throw new BusCodecError(`malformed reply from ${subject}`);
}
