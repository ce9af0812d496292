// Requests whose bytes are not the method's message. grpc-js answers a request deserializer
// that throws with INTERNAL ("Error deserializing request") before any handler runs; but bytes
// that do not parse are the caller's mistake, not the server's. startGrpcServer() wraps every
// method's deserializer so that it returns a Malformed marker instead, and the handler adapters
// (and any hand-written stream handler, via isMalformed) answer it with INVALID_ARGUMENT.
import { Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { REJECTION_CODE_KEY, REJECTION_KIND_KEY } from './status.js';

const MALFORMED = Symbol.for('mmsim.grpc.malformed');

export interface Malformed {
  readonly [MALFORMED]: { readonly method: string; readonly reason: string };
}

export const isMalformed = (x: unknown): x is Malformed => typeof x === 'object' && x !== null && MALFORMED in x;

export const MALFORMED_CODE = 'grpc.MALFORMED_REQUEST';

/** The INVALID_ARGUMENT a malformed request gets. */
export function malformedError(m: Malformed): Partial<ServiceError> {
  const { method, reason } = m[MALFORMED];
  const metadata = new Metadata();
  metadata.set(REJECTION_CODE_KEY, MALFORMED_CODE);
  metadata.set(REJECTION_KIND_KEY, 'invalid');
  return { code: status.INVALID_ARGUMENT, details: `${MALFORMED_CODE}: the request is not a valid message for ${method} (${reason})`, metadata };
}

/** The definition with deserializers that return a Malformed marker instead of throwing. */
export function tolerantDefinition(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const deserialize = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return deserialize(bytes);
        } catch (e) {
          const marker: Malformed = { [MALFORMED]: { method: method.path, reason: e instanceof Error ? e.message : String(e) } };
          return marker;
        }
      },
    };
  }
  return out as ServiceDefinition;
}
