// How an aggregate's events become protobuf and back. Each aggregate's owner writes one
// EventCodec for it (codecs/<service>.ts) and lists it in codecs/index.ts `eventCodecs`;
// the host (append and rebuild) and replay use it. ts-proto's oneof=unions-value keeps the
// mapping close to one-to-one: a TS event { type: 'PagesAllocated', ... } becomes
// { event: { $case: 'pagesAllocated', value: { ... } } }.
import type { ServiceName } from '@mmsim/kernel';
import type { EnvelopeEvent, ServiceEventMessage } from './envelope.js';

export interface EventCodec<S extends ServiceName, E> {
  readonly service: S;
  /** The TS event as its aggregate's event message (FramesEvent...). Deterministic: same event, same bytes. */
  toProto(event: E): ServiceEventMessage<S>;
  /** The inverse of toProto: fromProto(toProto(e)) deep-equals e. */
  fromProto(message: ServiceEventMessage<S>): E;
  /** The event's type name for reports and logs ("PagesAllocated"). */
  eventType(event: E): string;
}

/** Identity that checks the shape and keeps the literal service type. */
export const defineEventCodec = <S extends ServiceName, E>(codec: EventCodec<S, E>): EventCodec<S, E> => codec;

/** A codec of any one service (what hosts and replay registries hold). */
export type AnyEventCodec<E> = { [S in ServiceName]: EventCodec<S, E> }[ServiceName];

/** A codec's event as the envelope's oneof. */
export function toEnvelopeEvent<E>(codec: AnyEventCodec<E>, event: E): EnvelopeEvent {
  return { $case: codec.service, value: codec.toProto(event) } as EnvelopeEvent;
}

export class CodecMismatchError extends Error {
  override readonly name = 'CodecMismatchError';
}

/** The TS event of an envelope's oneof; throws CodecMismatchError if it belongs to another service. */
export function fromEnvelopeEvent<E>(codec: AnyEventCodec<E>, event: EnvelopeEvent | undefined): E {
  if (!event || event.$case !== codec.service) {
    throw new CodecMismatchError(`expected a ${codec.service} event, got ${event ? event.$case : 'none'}`);
  }
  // The case matches the codec's service, so the value is that service's message.
  return (codec.fromProto as (m: EnvelopeEvent['value']) => E)(event.value);
}

/** One codec per service, as `eventCodecs` in codecs/index.ts lists them. */
export type EventCodecs = { readonly [S in ServiceName]: EventCodec<S, unknown> };
