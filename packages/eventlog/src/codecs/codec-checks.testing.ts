// What every aggregate's codec spec checks, for one event or a whole recorded log.
import type { ServiceName } from '@mmsim/kernel';
import type { Envelope } from '@mmsim/proto';
import { expect } from 'vitest';
import { fromEnvelopeEvent, toEnvelopeEvent, type AnyEventCodec, type EventCodec } from './codec.js';
import { decodeBatch, encodeBatch, envelopeEventType, protoEventType, type ServiceEventMessage } from './envelope.js';

/** The generated message functions of an aggregate's event message (pb.FramesEvent...). */
export interface Wire<M> {
  encode(message: M): { finish(): Uint8Array };
  decode(bytes: Uint8Array): M;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/**
 * toProto, then fromProto, both directly and through the wire bytes, gives the event back
 * (toStrictEqual: an absent optional field must stay absent); encoding it twice gives the same
 * bytes; the type name is the same from the TS event and from the proto oneof.
 */
export function expectRoundTrip<S extends ServiceName, E extends { readonly type: string }>(
  codec: EventCodec<S, E>,
  wire: Wire<ServiceEventMessage<S>>,
  event: E,
): Uint8Array {
  const message = codec.toProto(event);
  expect(codec.fromProto(message)).toStrictEqual(event);
  const bytes = wire.encode(message).finish();
  expect(codec.fromProto(wire.decode(bytes))).toStrictEqual(event);
  expect(same(wire.encode(codec.toProto(event)).finish(), bytes)).toBe(true);
  // Canonical: what was decoded encodes to the same bytes again.
  expect(same(wire.encode(wire.decode(bytes)).finish(), bytes)).toBe(true);
  expect(codec.eventType(event)).toBe(event.type);
  expect(protoEventType(message as { event?: { $case: string } })).toBe(event.type);
  return bytes;
}

/**
 * The events as envelopes of one machine, in batches of `batchSize` (one decision each, as the
 * log appends them): encodeBatch/decodeBatch gives every event back, and the same envelopes
 * encode to the same bytes twice.
 */
export function expectEnvelopeRoundTrip<E extends { readonly type: string }>(
  codec: AnyEventCodec<E>,
  events: readonly E[],
  batchSize = 16,
): void {
  const envelopes: Envelope[] = events.map((e, i) => ({
    tenant: 'codec',
    machine: 'spec',
    seq: BigInt(i + 1),
    service: codec.service,
    serviceSeq: BigInt(i + 1),
    simTimeNs: BigInt(i * 1000),
    cause: { requestId: `r${Math.floor(i / batchSize)}`, parentSeq: 0n },
    stateHash: '0123456789abcdef',
    modelVersion: 1,
    event: toEnvelopeEvent(codec, e),
  }));
  const back: E[] = [];
  for (let i = 0; i < envelopes.length; i += batchSize) {
    const batch = envelopes.slice(i, i + batchSize);
    const bytes = encodeBatch(batch);
    expect(same(encodeBatch(batch), bytes)).toBe(true);
    const decoded = decodeBatch(bytes);
    expect(same(encodeBatch(decoded), bytes)).toBe(true);
    for (const env of decoded) {
      expect(envelopeEventType(env)).toBe(events[back.length].type);
      back.push(fromEnvelopeEvent(codec, env.event));
    }
  }
  expect(back).toStrictEqual(events);
}
