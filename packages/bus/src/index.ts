// @mmsim/bus: request/reply and publish/subscribe, over NATS or in-process, behind one interface.
export { DEFAULT_REQUEST_TIMEOUT_MS } from './bus.js';
export type { Bus, MessageContext, MessageListener, RequestHandler, RequestOptions, SubscribeOptions, Subscription } from './bus.js';
export { BusClosedError, BusCodecError, NoRespondersError, RemoteError, RemoteRejection, RequestTimeoutError } from './errors.js';
export { InProcessBus, InvalidSubjectError, type InProcessBusOptions } from './in-process/in-process-bus.js';
export { NatsBus, connectNatsBus, type ConnectNatsBusOptions, type NatsBusOptions } from './nats/nats-bus.js';
export { subjectMatches } from './match.js';
export {
  EVENT_STREAM,
  EVENT_SUBJECTS,
  InvalidNameError,
  checkToken,
  eventSubject,
  isValidToken,
  parseEventSubject,
  parseRpcSubject,
  rpcSubject,
  rpcWildcard,
} from './subjects.js';
export { decodeJson, encodeJson, errorReply, unwrapReply, type WireReply } from './wire.js';
