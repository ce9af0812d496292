// The distributed log: JetStream stream MMSIM (subjects mmsim.evt.>), one subject per machine,
// one message per decision (docs/architecture.md "Subjects"). Works with nats-server 2.9: only
// Nats-Msg-Id, Nats-Expected-Last-Subject-Sequence, direct gets (next_by_subj, last_by_subj)
// and single-filter ordered consumers.
//
// Append protocol: publish with Nats-Msg-Id `<tenant>.<machine>.<service>.<service_seq>` and
// the expected last subject sequence the writer knows. On 10071 (someone appended since) read
// the records missed: one of the writer's own service means a second, stale writer:
// LogFencedError; otherwise renumber after them and publish again. A duplicate ack is either
// this writer's own retry that had landed (same bytes: success) or another writer that used
// the same msg id (different bytes: fenced).
import { connect } from '@nats-io/transport-node';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StoredMsg,
} from '@nats-io/jetstream';
import { EVENT_STREAM, EVENT_SUBJECTS, eventSubject, parseEventSubject } from '@mmsim/bus';
import type { Envelope } from '@mmsim/proto';
import { buildEnvelopes, checkAppend, envelopesInRange } from '../append.js';
import { decodeBatch, encodeBatch, scanBatch } from '../codecs/envelope.js';
import { LogClosedError, LogConflictError, LogFencedError, LogPositionError, LogUnavailableError } from '../errors.js';
import {
  machineKey,
  type AppendRequest,
  type AppendResult,
  type EventLog,
  type LogPosition,
  type LogRecord,
  type LogTip,
  type MachineRef,
  type ReadOptions,
  type TailOptions,
} from '../event-log.js';
import { advanceByRecord, advancePosition } from '../position.js';

const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
/** Missed records read one by one with direct gets up to this many; beyond, an ordered consumer. */
const DIRECT_READ_LIMIT = 32;

export interface JetStreamEventLogOptions {
  /** Default MMSIM. */
  readonly stream?: string;
  /** Create the stream when it is missing (default true), with file storage unless told otherwise. */
  readonly createStream?: boolean;
  readonly storage?: 'file' | 'memory';
  /** The stream's de-duplication window when this log creates it (default 2 minutes). */
  readonly duplicateWindowMs?: number;
  /** Per publish attempt (default 5000). */
  readonly publishTimeoutMs?: number;
  /** Attempts of the same message when the server does not answer (default 3); msg ids make them safe. */
  readonly publishAttempts?: number;
  /** Give up (LogConflictError) after this many 10071 rounds for one append (default 1000). */
  readonly maxConflicts?: number;
  /** close() drains the connection (default: true when the log made it). */
  readonly ownsConnection?: boolean;
}

export interface ConnectJetStreamEventLogOptions extends JetStreamEventLogOptions {
  /** Default 127.0.0.1:4222. */
  readonly servers?: string | string[];
  readonly name?: string;
}

const apiCode = (e: unknown): number | undefined => (e instanceof JetStreamApiError ? e.code : undefined);

function errorNames(e: unknown): string[] {
  const out: string[] = [];
  for (let x = e, i = 0; x instanceof Error && i < 8; x = x.cause, i++) out.push(x.name);
  return out;
}

const transient = (e: unknown): boolean => {
  const n = errorNames(e);
  return n.includes('TimeoutError') || n.includes('NoResponders') || n.includes('JetStreamNotEnabled');
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Connects to NATS and opens the log on a connection it owns. */
export async function connectJetStreamEventLog(opts: ConnectJetStreamEventLogOptions = {}): Promise<JetStreamEventLog> {
  const nc = await connect({ servers: opts.servers ?? '127.0.0.1:4222', name: opts.name });
  try {
    return await JetStreamEventLog.open(nc, { ownsConnection: true, ...opts });
  } catch (e) {
    await nc.close();
    throw e;
  }
}

export class JetStreamEventLog implements EventLog {
  readonly kind = 'jetstream';
  readonly stream: string;
  private readonly js: JetStreamClient;
  private closed = false;
  private readonly closing = new AbortController();
  /** Appends of one machine through this log, one after the other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(
    readonly connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamEventLogOptions,
  ) {
    this.stream = options.stream ?? EVENT_STREAM;
    this.js = jetstream(connection);
  }

  /** Opens the log on a connection, making sure the stream exists and allows direct gets. */
  static async open(nc: NatsConnection, options: JetStreamEventLogOptions = {}): Promise<JetStreamEventLog> {
    const jsm = await jetstreamManager(nc);
    const log = new JetStreamEventLog(nc, jsm, options);
    await log.ensureStream();
    return log;
  }

  private async ensureStream(): Promise<void> {
    const name = this.stream;
    let info;
    try {
      info = await this.jsm.streams.info(name);
    } catch (e) {
      if (apiCode(e) !== STREAM_NOT_FOUND || this.options.createStream === false) {
        throw new LogUnavailableError(`JetStream stream ${name}: ${(e as Error).message}`, { cause: e });
      }
      try {
        info = await this.jsm.streams.add({
          name,
          subjects: [EVENT_SUBJECTS],
          storage: this.options.storage === 'memory' ? StorageType.Memory : StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          duplicate_window: nanos(this.options.duplicateWindowMs ?? 120_000),
          allow_direct: true,
          num_replicas: 1,
        });
      } catch (e2) {
        if (apiCode(e2) !== STREAM_NAME_IN_USE) throw e2;
        info = await this.jsm.streams.info(name); // created by someone else meanwhile
      }
    }
    if (!info.config.subjects?.includes(EVENT_SUBJECTS)) {
      throw new LogUnavailableError(`JetStream stream ${name} does not capture ${EVENT_SUBJECTS} (it has ${info.config.subjects?.join(', ')})`);
    }
    if (!info.config.allow_direct) await this.jsm.streams.update(name, { ...info.config, allow_direct: true });
  }

  private check(): void {
    if (this.closed) throw new LogClosedError();
  }

  /** Runs `f` after the machine's previous append through this log. */
  private serially<T>(key: string, f: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const p = prev.then(f, f);
    const tail = p.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return p;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    this.check();
    checkAppend(req);
    return this.serially(machineKey(req.machine), () => this.appendNow(req));
  }

  private async appendNow(req: AppendRequest): Promise<AppendResult> {
    const { tenant, machine } = req.machine;
    const subject = eventSubject(tenant, machine);
    const service = req.service;
    let known: LogPosition = req.expected;
    let missed = 0;
    for (let conflicts = 0; ; ) {
      this.check();
      const own = known.serviceSeqs[service] ?? 0;
      const envelopes = buildEnvelopes(req, known.seq + 1, own + 1);
      const payload = encodeBatch(envelopes);
      const msgId = `${tenant}.${machine}.${service}.${own + 1}`;
      let ack: PubAck;
      try {
        ack = await this.publish(subject, payload, msgId, known.streamSeq);
      } catch (e) {
        if (apiCode(e) !== WRONG_LAST_SEQUENCE) throw e;
        if (++conflicts > (this.options.maxConflicts ?? 1000)) {
          throw new LogConflictError(`${subject}: ${conflicts - 1} conflicting appends in a row`, { cause: e });
        }
        let progressed = false;
        for await (const r of this.recordsAfter(subject, known.streamSeq)) {
          for (const env of r.envelopes) {
            if (env.service === service) throw new LogFencedError(subject, Number(env.seq), service, Number(env.serviceSeq), { cause: e });
          }
          known = advanceByRecord(known, r, subject);
          missed++;
          progressed = true;
        }
        if (!progressed) {
          // The server's last record is not the one we know, yet nothing follows it: we are
          // ahead of the log (a position from elsewhere, or records purged).
          throw new LogPositionError(`${subject}: expected last stream sequence ${known.streamSeq}, but nothing follows it`, { cause: e });
        }
        continue;
      }
      if (ack.duplicate) {
        // Our own earlier attempt (same bytes), or another writer with the same msg id.
        const stored = await this.getStored({ seq: ack.seq });
        if (!stored || stored.subject !== subject || !sameBytes(stored.data, payload)) {
          const other = stored && stored.subject === subject ? scanBatch(stored.data) : undefined;
          throw new LogFencedError(subject, other?.firstSeq ?? 0, service, own + 1);
        }
      }
      return { envelopes, position: advancePosition(known, envelopes, ack.seq, subject), missed };
    }
  }

  /** Publishes one record, retrying the same message when the server does not answer. */
  private async publish(subject: string, payload: Uint8Array, msgID: string, lastSubjectSequence: number): Promise<PubAck> {
    const attempts = Math.max(1, this.options.publishAttempts ?? 3);
    for (let i = 1; ; i++) {
      try {
        return await this.js.publish(subject, payload, {
          msgID,
          expect: { lastSubjectSequence },
          timeout: this.options.publishTimeoutMs ?? 5000,
        });
      } catch (e) {
        if (apiCode(e) !== undefined) throw e;
        if (this.closed) throw new LogClosedError({ cause: e });
        if (!transient(e) || i >= attempts) throw new LogUnavailableError(`${subject}: publish failed: ${(e as Error).message}`, { cause: e });
        await new Promise((r) => setTimeout(r, 50 * i));
      }
    }
  }

  private async getStored(query: { seq: number } | { next_by_subj: string; seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.stream, query);
    } catch (e) {
      throw new LogUnavailableError(`${this.stream}: direct get failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private static toRecord(m: { seq: number; data: Uint8Array }): LogRecord {
    const payload = m.data.slice();
    return { envelopes: decodeBatch(payload), streamSeq: m.seq, payload };
  }

  /** The records on `subject` after stream sequence `after`, up to the end as of now. */
  private async *recordsAfter(subject: string, after: number): AsyncGenerator<LogRecord> {
    let next = after + 1;
    for (let n = 0; n < DIRECT_READ_LIMIT; n++) {
      const m = await this.getStored({ next_by_subj: subject, seq: next });
      if (!m) return;
      yield JetStreamEventLog.toRecord(m);
      next = m.seq + 1;
    }
    yield* this.consume(subject, next);
  }

  /**
   * The records on `subject` from stream sequence `start` to the end as of the start of the
   * read, through an ordered consumer (ephemeral, memory storage, one filter subject).
   */
  private async *consume(subject: string, start: number, live?: AbortSignal): AsyncGenerator<LogRecord> {
    let consumer;
    try {
      consumer = await this.js.consumers.get(this.stream, { filter_subjects: subject, opt_start_seq: start });
    } catch (e) {
      throw new LogUnavailableError(`${subject}: cannot read: ${(e as Error).message}`, { cause: e });
    }
    if (!live && (await consumer.info(true)).num_pending === 0) {
      await consumer.delete().catch(() => false);
      return;
    }
    const messages = await consumer.consume({ max_messages: 256 });
    const stop = () => messages.stop();
    live?.addEventListener('abort', stop, { once: true });
    this.closing.signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        yield JetStreamEventLog.toRecord(m);
        if (!live && m.info.pending === 0) break;
      }
    } finally {
      live?.removeEventListener('abort', stop);
      this.closing.signal.removeEventListener('abort', stop);
      messages.stop();
      await consumer.delete().catch(() => false);
    }
  }

  /**
   * The stream sequence of the record that holds `seq` (a binary search over the stream with
   * next_by_subj direct gets: O(log n) round trips), or undefined when the log ends before it.
   */
  private async seek(subject: string, seq: number): Promise<number | undefined> {
    const last = await this.getStored({ last_by_subj: subject });
    if (!last || scanBatch(last.data).lastSeq < seq) return undefined;
    if (seq <= 1) return 1;
    let lo = 1;
    let hi = last.seq;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const m = await this.getStored({ next_by_subj: subject, seq: mid });
      if (!m) throw new LogUnavailableError(`${subject}: the log shrank while seeking`);
      if (scanBatch(m.data).lastSeq >= seq) hi = Math.min(mid, m.seq);
      else lo = m.seq + 1;
    }
    return lo;
  }

  async *records(m: MachineRef, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
    this.check();
    const subject = eventSubject(m.tenant, m.machine);
    const from = Math.max(1, opts.fromSeq ?? 1);
    const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
    if (from > to) return;
    const start = await this.seek(subject, from);
    if (start === undefined) return;
    for await (const r of this.consume(subject, start)) {
      if (Number(r.envelopes[0].seq) > to) return;
      yield r;
    }
  }

  async *read(m: MachineRef, opts: ReadOptions = {}): AsyncGenerator<Envelope> {
    for await (const r of this.records(m, opts)) yield* envelopesInRange(r.envelopes, opts);
  }

  async *tail(m: MachineRef, opts: TailOptions = {}): AsyncGenerator<Envelope> {
    this.check();
    const subject = eventSubject(m.tenant, m.machine);
    const from = Math.max(1, opts.fromSeq ?? 1);
    let start = await this.seek(subject, from);
    if (start === undefined) {
      // Nothing at or after `from` yet: follow from the end of the stream.
      const info = await this.jsm.streams.info(this.stream);
      start = info.state.last_seq + 1;
    }
    const signal = opts.signal ?? new AbortController().signal;
    if (signal.aborted) return;
    for await (const r of this.consume(subject, start, signal)) {
      for (const e of envelopesInRange(r.envelopes, { fromSeq: from })) yield e;
    }
  }

  async tip(m: MachineRef): Promise<LogTip | undefined> {
    this.check();
    const last = await this.getStored({ last_by_subj: eventSubject(m.tenant, m.machine) });
    return last ? { seq: scanBatch(last.data).lastSeq, streamSeq: last.seq } : undefined;
  }

  async machines(): Promise<MachineRef[]> {
    this.check();
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: EVENT_SUBJECTS });
    const out: MachineRef[] = [];
    for (const s of Object.keys(info.state.subjects ?? {})) {
      const ref = parseEventSubject(s);
      if (ref) out.push(ref);
    }
    return out.sort((a, b) => (a.tenant === b.tenant ? cmp(a.machine, b.machine) : cmp(a.tenant, b.tenant)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await Promise.all([...this.queues.values()]);
    if (this.options.ownsConnection && !this.connection.isClosed()) await this.connection.drain();
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
