// The heap aggregate's event codec. PLACEHOLDER until packages/kernel/src/ has the heap
// events: the TS event is the proto message itself (identity). The aggregate's owner replaces
// this with EventCodec<'heap', <kernel event union>> converting each event to its message of
// proto/mmsim/v1/heap_events.proto, and keeps the export name.
import type { HeapEvent } from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { protoEventType } from './envelope.js';

export const heapCodec = defineEventCodec<'heap', HeapEvent>({
  service: 'heap',
  toProto: (e) => e,
  fromProto: (m) => m,
  eventType: (e) => protoEventType(e),
});
