// The frames aggregate's event codec. PLACEHOLDER until packages/kernel/src/ has the frames
// events: the TS event is the proto message itself (identity). The aggregate's owner replaces
// this with EventCodec<'frames', <kernel event union>> converting each event to its message of
// proto/mmsim/v1/frames_events.proto, and keeps the export name.
import type { FramesEvent } from '@mmsim/proto';
import { defineEventCodec } from './codec.js';
import { protoEventType } from './envelope.js';

export const framesCodec = defineEventCodec<'frames', FramesEvent>({
  service: 'frames',
  toProto: (e) => e,
  fromProto: (m) => m,
  eventType: (e) => protoEventType(e),
});
