// The bus over NATS core (nats.js v3, transport-node). Requests use the connection's muxed
// inbox; replies and errors use the same JSON wire format as the in-process bus (wire.ts).
import { connect } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription as NatsSubscription } from '@nats-io/nats-core';
import { BusClosedError, NoRespondersError, RequestTimeoutError } from '../errors.js';
import { decodeJson, encodeJson, errorReply, unwrapReply, type WireReply } from '../wire.js';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Bus,
  type MessageListener,
  type RequestHandler,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
} from '../bus.js';

export interface NatsBusOptions {
  readonly defaultTimeoutMs?: number;
  /** Where errors thrown by listeners and failed replies go (default: console.error). */
  readonly onError?: (error: unknown, subject: string) => void;
  /** close() drains and closes the connection (default: true when the bus made it). */
  readonly ownsConnection?: boolean;
}

export interface ConnectNatsBusOptions extends NatsBusOptions {
  /** Default: 127.0.0.1:4222. */
  readonly servers?: string | string[];
  /** Connection name shown by the server's monitoring. */
  readonly name?: string;
}

/** Connects to NATS and returns a bus that owns the connection. */
export async function connectNatsBus(opts: ConnectNatsBusOptions = {}): Promise<NatsBus> {
  const nc = await connect({ servers: opts.servers ?? '127.0.0.1:4222', name: opts.name });
  return new NatsBus(nc, { ownsConnection: true, ...opts });
}

/** The error names along a cause chain (nats.js wraps its NoRespondersError, named 'NoResponders', in a RequestError). */
function names(e: unknown): string[] {
  const out: string[] = [];
  for (let x = e, i = 0; x instanceof Error && i < 8; x = x.cause, i++) out.push(x.name);
  return out;
}

export class NatsBus implements Bus {
  private readonly subs = new Set<NatsSubscription>();
  private closed = false;

  constructor(
    /** The connection, for code that also needs JetStream on it. */
    readonly connection: NatsConnection,
    private readonly options: NatsBusOptions = {},
  ) {}

  private report(e: unknown, subject: string): void {
    (this.options.onError ?? ((err, s) => console.error(`bus on ${s}:`, err)))(e, subject);
  }

  async request(subject: string, payload: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closed || this.connection.isClosed()) throw new BusClosedError();
    const timeoutMs = opts.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let msg: Msg;
    try {
      msg = await this.connection.request(subject, encodeJson(payload), { timeout: timeoutMs });
    } catch (e) {
      const n = names(e);
      if (n.includes('NoResponders') || n.includes('NoRespondersError')) throw new NoRespondersError(subject, { cause: e });
      if (n.includes('TimeoutError')) throw new RequestTimeoutError(subject, timeoutMs, { cause: e });
      if (n.includes('ClosedConnectionError') || n.includes('DrainingConnectionError')) throw new BusClosedError({ cause: e });
      throw e;
    }
    return unwrapReply(subject, decodeJson(msg.data));
  }

  private add(subject: string, onMsg: (msg: Msg) => void, opts: SubscribeOptions): Promise<Subscription> {
    if (this.closed) return Promise.reject(new BusClosedError());
    const sub = this.connection.subscribe(subject, {
      queue: opts.queue,
      callback: (err, msg) => {
        if (err) this.report(err, subject);
        else onMsg(msg);
      },
    });
    this.subs.add(sub);
    const stop = async () => {
      this.subs.delete(sub);
      if (!sub.isClosed()) sub.unsubscribe();
    };
    // The server must know the subscription before anyone can be told it is ready.
    return this.connection.flush().then(() => ({ subject, stop }));
  }

  serve(subject: string, handler: RequestHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    return this.add(
      subject,
      (msg) => {
        void (async (): Promise<WireReply> => {
          try {
            return { ok: await handler(decodeJson(msg.data), { subject: msg.subject }) };
          } catch (e) {
            return errorReply(e);
          }
        })().then((reply) => {
          if (!msg.reply) return; // published, not requested: nobody waits for the reply
          let bytes: Uint8Array;
          try {
            bytes = encodeJson(reply);
          } catch (e) {
            bytes = encodeJson(errorReply(e));
          }
          if (!msg.respond(bytes)) this.report(new Error('reply not sent'), msg.subject);
        });
      },
      opts,
    );
  }

  subscribe(subject: string, listener: MessageListener, opts: SubscribeOptions = {}): Promise<Subscription> {
    return this.add(
      subject,
      (msg) => {
        try {
          const r = listener(decodeJson(msg.data), { subject: msg.subject });
          if (r instanceof Promise) r.catch((e) => this.report(e, msg.subject));
        } catch (e) {
          this.report(e, msg.subject);
        }
      },
      opts,
    );
  }

  publish(subject: string, payload: unknown): void {
    if (this.closed) throw new BusClosedError();
    this.connection.publish(subject, encodeJson(payload));
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.options.ownsConnection ?? false) {
      if (!this.connection.isClosed()) await this.connection.drain();
      return;
    }
    for (const s of this.subs) if (!s.isClosed()) s.unsubscribe();
    this.subs.clear();
  }
}
