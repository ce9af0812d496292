// The vma aggregate's event codec. PLACEHOLDER until packages/kernel/src/ has the vma
// events: the TS event is the proto message itself (identity). The aggregate's owner replaces
// this with EventCodec<'vma', <kernel event union>> converting each event to its message of
// proto/mmsim/v1/vma_events.proto, and keeps the export name.
import type { VmaEvent } from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { protoEventType } from './envelope.js';

export const vmaCodec = defineEventCodec<'vma', VmaEvent>({
  service: 'vma',
  toProto: (e) => e,
  fromProto: (m) => m,
  eventType: (e) => protoEventType(e),
});
