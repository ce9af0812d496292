// The bus inside one process (all-in-one, tests). Same semantics as NATS: wildcards, queue
// groups, no-responders, timeouts, first reply wins, rejections as data. Deterministic:
// every delivery is a microtask in send order, subscribers are visited in registration order,
// and a queue group hands messages to its members round-robin (NATS picks at random).
import { BusClosedError, NoRespondersError, RequestTimeoutError } from '../errors.js';
import { isPublishSubject, isSubscribeSubject, subjectMatches } from '../match.js';
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

export interface InProcessBusOptions {
  /**
   * 'json' (default): payloads and replies are encoded and decoded as on the wire, so a
   * handler never shares an object with its caller and what does not survive JSON fails here
   * as it would over NATS. 'none': objects are passed by reference (faster; both sides must
   * treat them as read-only).
   */
  readonly copy?: 'json' | 'none';
  readonly defaultTimeoutMs?: number;
  /** Where errors thrown by listeners go (default: console.error). */
  readonly onError?: (error: unknown, subject: string) => void;
}

interface Sub {
  readonly id: number;
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly serve: RequestHandler | undefined;
  readonly listen: MessageListener | undefined;
}

export class InvalidSubjectError extends Error {
  override readonly name = 'InvalidSubjectError';
}

export class InProcessBus implements Bus {
  private subs: Sub[] = [];
  private nextId = 1;
  private closed = false;
  private readonly roundRobin = new Map<string, number>();
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly options: InProcessBusOptions = {}) {}

  private copyOut(payload: unknown): unknown {
    return this.options.copy === 'none' ? payload : encodeJson(payload);
  }

  private copyIn(wire: unknown): unknown {
    return this.options.copy === 'none' ? wire : decodeJson(wire as Uint8Array);
  }

  /** The subscriptions a message to `subject` reaches: all plain ones, one per queue group. */
  private targets(subject: string): Sub[] {
    const out: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of this.subs) {
      if (!subjectMatches(s.pattern, subject)) continue;
      if (s.queue === undefined) out.push(s);
      else {
        const key = `${s.pattern}\u0000${s.queue}`;
        const g = groups.get(key);
        if (g) g.push(s);
        else groups.set(key, [s]);
      }
    }
    for (const [key, members] of groups) {
      const n = this.roundRobin.get(key) ?? 0;
      this.roundRobin.set(key, n + 1);
      out.push(members[n % members.length]);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  request(subject: string, payload: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (!isPublishSubject(subject)) return Promise.reject(new InvalidSubjectError(`cannot send to ${JSON.stringify(subject)}`));
    let wire: unknown;
    try {
      wire = this.copyOut(payload);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeoutMs = opts.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<unknown>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(abort);
        f();
      };
      const abort = (e: Error) => finish(() => reject(e));
      this.pending.add(abort);
      const timer = setTimeout(() => abort(new RequestTimeoutError(subject, timeoutMs)), timeoutMs);
      queueMicrotask(() => {
        const targets = this.targets(subject);
        if (targets.length === 0) return abort(new NoRespondersError(subject));
        for (const t of targets) {
          if (t.listen) {
            this.deliver(t, subject, wire);
            continue;
          }
          const serve = t.serve!;
          void (async (): Promise<WireReply> => {
            try {
              return { ok: await serve(this.copyIn(wire), { subject }) };
            } catch (e) {
              return errorReply(e);
            }
          })().then((reply) => {
            let replyWire: unknown;
            try {
              replyWire = this.copyOut(reply);
            } catch (e) {
              replyWire = this.copyOut(errorReply(e));
            }
            queueMicrotask(() =>
              finish(() => {
                try {
                  resolve(unwrapReply(subject, this.copyIn(replyWire)));
                } catch (e) {
                  reject(e);
                }
              }),
            );
          });
        }
      });
    });
  }

  private deliver(t: Sub, subject: string, wire: unknown): void {
    const report = (e: unknown) => (this.options.onError ?? ((err, s) => console.error(`bus listener on ${s}:`, err)))(e, subject);
    try {
      const r = t.listen ? t.listen(this.copyIn(wire), { subject }) : t.serve!(this.copyIn(wire), { subject });
      if (r instanceof Promise) r.catch(report);
    } catch (e) {
      report(e);
    }
  }

  private add(subject: string, serve: RequestHandler | undefined, listen: MessageListener | undefined, opts: SubscribeOptions): Promise<Subscription> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (!isSubscribeSubject(subject)) return Promise.reject(new InvalidSubjectError(`cannot subscribe to ${JSON.stringify(subject)}`));
    const sub: Sub = { id: this.nextId++, pattern: subject, queue: opts.queue, serve, listen };
    this.subs.push(sub);
    return Promise.resolve({
      subject,
      stop: async () => {
        this.subs = this.subs.filter((s) => s !== sub);
      },
    });
  }

  serve(subject: string, handler: RequestHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    return this.add(subject, handler, undefined, opts);
  }

  subscribe(subject: string, listener: MessageListener, opts: SubscribeOptions = {}): Promise<Subscription> {
    return this.add(subject, undefined, listener, opts);
  }

  publish(subject: string, payload: unknown): void {
    if (this.closed) throw new BusClosedError();
    if (!isPublishSubject(subject)) throw new InvalidSubjectError(`cannot send to ${JSON.stringify(subject)}`);
    const wire = this.copyOut(payload);
    // A served subject gets published messages too (as on NATS); the reply goes nowhere.
    queueMicrotask(() => {
      for (const t of this.targets(subject)) this.deliver(t, subject, wire);
    });
  }

  /** Resolves once every delivery queued so far has been made. */
  flush(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs = [];
    for (const abort of [...this.pending]) abort(new BusClosedError());
  }
}
