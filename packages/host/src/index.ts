// @mmsim/host: the generic aggregate host every service runs around its aggregate, and its
// Needs over the bus.
export { createAggregateHost, HostClosedError, subRequestId, type AggregateHost, type AggregateHostOptions } from './aggregate-host.js';
export { BadAskError, busAsk, DEFAULT_COMMAND_OP, serveHost, type AskReplyWire, type AskWire, type BusAskOptions, type ServeHostOptions } from './bus-rpc.js';
export { AggregateProtocolError, DuplicateRequestError, StateHashMismatchError } from './errors.js';
export { SerialQueue } from './serial-queue.js';
export type { AskContext, AskFn, AskReply, CommandContext, HandleResult, HostLogger, RebuildProgress, RebuildSummary } from './types.js';
