// The oom aggregate's event codec. PLACEHOLDER until packages/kernel/src/ has the oom
// events: the TS event is the proto message itself (identity). The aggregate's owner replaces
// this with EventCodec<'oom', <kernel event union>> converting each event to its message of
// proto/mmsim/v1/oom_events.proto, and keeps the export name.
import type { OomEvent } from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { protoEventType } from './envelope.js';

export const oomCodec = defineEventCodec<'oom', OomEvent>({
  service: 'oom',
  toProto: (e) => e,
  fromProto: (m) => m,
  eventType: (e) => protoEventType(e),
});
