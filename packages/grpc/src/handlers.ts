// Adapters from promise/async-iterable handlers to @grpc/grpc-js handlers, with every thrown
// error mapped by toServiceError(). A service's gRPC adapter is then one line per method:
//   malloc: unary((req) => handle(fromProto(req), causeOf(req)).then(toProto)),
import type { handleServerStreamingCall, handleUnaryCall, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { isMalformed, malformedError } from './malformed.js';
import { toServiceError, type ErrorLogger } from './status.js';

export interface HandlerOptions {
  /** Where INTERNAL errors are logged (default console). */
  readonly logger?: ErrorLogger;
  /** Names the method in logs (default: the call's path). */
  readonly name?: string;
}

const pathOf = (call: { getPath?: () => string }): string => (typeof call.getPath === 'function' ? call.getPath() : 'grpc');

export function unary<Req, Res>(
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  opts: HandlerOptions = {},
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    if (isMalformed(call.request)) return callback(malformedError(call.request));
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then(
        (response) => callback(null, response),
        (e: unknown) => callback(toServiceError(e, opts.name ?? pathOf(call), opts.logger)),
      );
  };
}

/**
 * A server-streaming method from an async iterable. `signal` aborts when the client cancels
 * (stop producing); writes wait for the stream to drain (backpressure).
 */
export function serverStream<Req, Res>(
  handler: (request: Req, signal: AbortSignal, call: ServerWritableStream<Req, Res>) => AsyncIterable<Res>,
  opts: HandlerOptions = {},
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    if (isMalformed(call.request)) {
      call.emit('error', malformedError(call.request));
      return;
    }
    const cancel = new AbortController();
    call.on('cancelled', () => cancel.abort());
    const drained = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          cancel.signal.removeEventListener('abort', done);
          resolve();
        };
        call.on('drain', done);
        cancel.signal.addEventListener('abort', done, { once: true });
      });
    void (async () => {
      try {
        for await (const item of handler(call.request, cancel.signal, call)) {
          if (cancel.signal.aborted) return;
          if (!call.write(item)) await drained();
        }
        if (!cancel.signal.aborted) call.end();
      } catch (e) {
        if (!cancel.signal.aborted) call.emit('error', toServiceError(e, opts.name ?? pathOf(call), opts.logger));
      }
    })();
  };
}
