// One interface for request/reply and publish/subscribe, with a NATS and an in-process
// implementation behind it (nats.js's shape: a core that does not care about the transport).
//
// Payloads are plain data (JSON values; bigint allowed) and cross the wire as UTF-8 JSON; see
// wire.ts. A handler's reply is its return value; a Rejection it throws comes back to the
// caller as a RemoteRejection (same code/kind/message), any other error as a RemoteError.

/** What a handler is told about the message it is handling. */
export interface MessageContext {
  /** The subject the message was sent to (useful when serving a wildcard). */
  readonly subject: string;
}

/** Serves requests: the return value (or the promise's value) is the reply. */
export type RequestHandler = (payload: unknown, ctx: MessageContext) => unknown;

/** Receives published messages. Errors it throws are reported and otherwise ignored. */
export type MessageListener = (payload: unknown, ctx: MessageContext) => void | Promise<void>;

export interface RequestOptions {
  /** Default: the bus's default timeout (5000 ms). */
  readonly timeoutMs?: number;
}

export interface SubscribeOptions {
  /**
   * Subscribers that share a queue group share the messages: each message goes to one of
   * them. Without one, every subscriber gets every message.
   */
  readonly queue?: string;
}

/** A registration made by serve() or subscribe(); stop() ends it. */
export interface Subscription {
  readonly subject: string;
  stop(): Promise<void>;
}

export interface Bus {
  /**
   * Sends a request and waits for the first reply. Rejects with NoRespondersError when no one
   * serves the subject, RequestTimeoutError when no reply comes in time, RemoteRejection or
   * RemoteError when the handler threw, BusClosedError after close().
   */
  request(subject: string, payload: unknown, opts?: RequestOptions): Promise<unknown>;
  /** Serves requests on a subject or a wildcard (`*` one token, `>` the rest). */
  serve(subject: string, handler: RequestHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** Fire and forget. */
  publish(subject: string, payload: unknown): void;
  subscribe(subject: string, listener: MessageListener, opts?: SubscribeOptions): Promise<Subscription>;
  /** Resolves once everything published or served so far has reached the other side. */
  flush(): Promise<void>;
  /** Stops every subscription; pending requests reject with BusClosedError. */
  close(): Promise<void>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
