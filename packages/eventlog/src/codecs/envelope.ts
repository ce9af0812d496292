// The envelope on the wire: EnvelopeBatch bytes <-> Envelope objects, and a fast scan that
// reads only the positions of a batch (seq, service, service_seq) without decoding events.
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { Envelope, EnvelopeBatch } from '@mmsim/proto';
import type { ServiceName } from '@mmsim/kernel';

/** The envelope's event oneof: { $case: 'frames', value: FramesEvent } | ... */
export type EnvelopeEvent = NonNullable<Envelope['event']>;

/** The proto message that holds one service's events (FramesEvent for 'frames'...). */
export type ServiceEventMessage<S extends ServiceName> = Extract<EnvelopeEvent, { $case: S }>['value'];

export function encodeBatch(envelopes: readonly Envelope[]): Uint8Array {
  return EnvelopeBatch.encode({ envelopes: envelopes as Envelope[] }).finish();
}

export function decodeBatch(bytes: Uint8Array): Envelope[] {
  return EnvelopeBatch.decode(bytes).envelopes;
}

export interface BatchSummary {
  readonly count: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The envelopes' services and service_seqs, in order. */
  readonly services: readonly string[];
  readonly serviceSeqs: readonly number[];
  readonly tenant: string;
  readonly machine: string;
}

/**
 * Reads seq, service, service_seq, tenant and machine of each envelope of an EnvelopeBatch,
 * skipping the events: opening a big log file costs a scan, not a decode.
 */
export function scanBatch(bytes: Uint8Array): BatchSummary {
  const r = new BinaryReader(bytes);
  const services: string[] = [];
  const serviceSeqs: number[] = [];
  let firstSeq = 0, lastSeq = 0, count = 0, tenant = '', machine = '';
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const end = r.uint32() + r.pos;
    let seq = 0, service = '', serviceSeq = 0;
    while (r.pos < end) {
      const [f, w] = r.tag();
      if (f === 1 && w === 2) tenant = r.string();
      else if (f === 2 && w === 2) machine = r.string();
      else if (f === 3 && w === 0) seq = Number(r.uint64());
      else if (f === 4 && w === 2) service = r.string();
      else if (f === 5 && w === 0) serviceSeq = Number(r.uint64());
      else r.skip(w);
    }
    if (count === 0) firstSeq = seq;
    lastSeq = seq;
    services.push(service);
    serviceSeqs.push(serviceSeq);
    count++;
  }
  return { count, firstSeq, lastSeq, services, serviceSeqs, tenant, machine };
}

/** The aggregate that emitted an event (the oneof's case). */
export const eventService = (e: EnvelopeEvent): ServiceName => e.$case;

/**
 * "MachineBooted" for a FramesEvent holding { $case: 'machineBooted' }: the type name used in
 * reports, read from the inner oneof of any aggregate's event message.
 */
export function protoEventType(message: { event?: { $case: string } | undefined }): string {
  const c = message.event?.$case;
  return c ? c[0].toUpperCase() + c.slice(1) : '(empty)';
}

/** The type name of an envelope's event. */
export const envelopeEventType = (e: Envelope): string => (e.event ? protoEventType(e.event.value) : '(no event)');
