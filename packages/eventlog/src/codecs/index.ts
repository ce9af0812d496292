// Codecs: the envelope on the wire, and one EventCodec per aggregate.
//
// Registering an aggregate's codec: write codecs/<service>.ts exporting
// `<service>Codec = defineEventCodec<'<service>', YourEvent>({ service, toProto, fromProto,
// eventType })` and list it below. `eventCodecs` is a constant table, not a mutable registry.
import type { EventCodecs } from './codec.js';
import { framesCodec } from './frames.js';
import { heapCodec } from './heap.js';
import { oomCodec } from './oom.js';
import { vmaCodec } from './vma.js';

export {
  CodecMismatchError,
  defineEventCodec,
  fromEnvelopeEvent,
  toEnvelopeEvent,
  type AnyEventCodec,
  type EventCodec,
  type EventCodecs,
} from './codec.js';
export {
  decodeBatch,
  encodeBatch,
  envelopeEventType,
  eventService,
  protoEventType,
  scanBatch,
  type BatchSummary,
  type EnvelopeEvent,
  type ServiceEventMessage,
} from './envelope.js';
export { machineConfigFromProto, machineConfigToProto } from './machine-config.js';
export { EventCodecError } from './scalars.js';
export { framesCodec, heapCodec, oomCodec, vmaCodec };

export const eventCodecs: EventCodecs = {
  frames: framesCodec as EventCodecs['frames'],
  vma: vmaCodec as EventCodecs['vma'],
  heap: heapCodec as EventCodecs['heap'],
  oom: oomCodec as EventCodecs['oom'],
};
