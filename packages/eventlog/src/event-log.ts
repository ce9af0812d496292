// One machine's log, behind one interface with a file and a JetStream implementation
// (docs/architecture.md "The log" and "Subjects").
//
// The log assigns `seq` (dense per machine) and `service_seq` (dense per machine and service)
// and writes a decision's events as one unit. It does not remember what a writer knows: the
// writer (packages/host) keeps a LogPosition per machine with its state, passes it with each
// append as `expected`, and keeps the position it gets back. Because position and state move
// together, a writer whose state is stale is always caught (LogFencedError) instead of
// appending on top of records it never applied.
import type { Envelope } from '@mmsim/proto';
import type { EnvelopeEvent } from './codecs/envelope.js';

export interface MachineRef {
  readonly tenant: string;
  readonly machine: string;
}

/** What made an event happen (Envelope.cause). */
export interface Cause {
  /** The request being served; derived, never random. */
  readonly requestId: string;
  /** The seq of the event that caused this one; 0: none. */
  readonly parentSeq: number;
}

/**
 * What a writer knows of a machine's log: the last record it has seen and, at that point,
 * the last service_seq of every service. Positions travel between services (bus requests and
 * replies) so that a chain of calls appends without conflicts.
 */
export interface LogPosition {
  /** The last seq (0: an empty log). */
  readonly seq: number;
  /** The backend's sequence of that record: the JetStream stream sequence; the file log uses seq. */
  readonly streamSeq: number;
  /** Last service_seq per service at `seq` (absent: 0). */
  readonly serviceSeqs: Readonly<Record<string, number>>;
}

export const EMPTY_POSITION: LogPosition = Object.freeze({ seq: 0, streamSeq: 0, serviceSeqs: Object.freeze({}) });

export interface AppendEvent {
  /** The event as the envelope's oneof (a codec's toEnvelopeEvent()). Its case must be the appending service. */
  readonly event: EnvelopeEvent;
  /** The aggregate's stateHash() after applying this event. */
  readonly stateHash: string;
  readonly simTimeNs: bigint;
}

export interface AppendRequest {
  readonly machine: MachineRef;
  readonly service: string;
  /** One decision's events, in order (at least one). */
  readonly events: readonly AppendEvent[];
  readonly cause: Cause;
  readonly modelVersion: number;
  /** What the writer knows (its last position, merged with any learned from other services). */
  readonly expected: LogPosition;
}

export interface AppendResult {
  /** The envelopes as written, with their seq and service_seq. */
  readonly envelopes: readonly Envelope[];
  /** The writer's position after this append (what it missed included). */
  readonly position: LogPosition;
  /** Records of other services the writer had not seen and that it appended after. */
  readonly missed: number;
}

/** One decision: the unit of append and of the file format. */
export interface LogRecord {
  readonly envelopes: readonly Envelope[];
  /** JetStream stream sequence; the file log uses the last envelope's seq. */
  readonly streamSeq: number;
  /** The record's EnvelopeBatch bytes as stored, when the log has them (export copies them as they are). */
  readonly payload?: Uint8Array;
}

export interface ReadOptions {
  /** First seq wanted (default 1). */
  readonly fromSeq?: number;
  /** Last seq wanted (default: the end as of the call). */
  readonly toSeq?: number;
}

export interface TailOptions {
  /** First seq wanted (default 1). */
  readonly fromSeq?: number;
  /** Ends the tail (the iterator then returns). */
  readonly signal?: AbortSignal;
}

/** The last record of a machine's log. */
export interface LogTip {
  readonly seq: number;
  readonly streamSeq: number;
}

export interface EventLog {
  readonly kind: 'file' | 'jetstream';
  /**
   * Appends one decision's events as one unit after `expected`. If other services appended
   * since, the log takes the next seqs after theirs (their records count in the result's
   * position). If a record of the same service was appended by someone else, throws
   * LogFencedError and writes nothing.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  /** Whole records that hold any seq in [fromSeq, toSeq], in order. */
  records(machine: MachineRef, opts?: ReadOptions): AsyncIterable<LogRecord>;
  /** The envelopes with seq in [fromSeq, toSeq], in order. */
  read(machine: MachineRef, opts?: ReadOptions): AsyncIterable<Envelope>;
  /** The envelopes from fromSeq on, then each new one as it is appended, until the signal aborts. */
  tail(machine: MachineRef, opts?: TailOptions): AsyncIterable<Envelope>;
  /** The last record, or undefined for a machine with no log. */
  tip(machine: MachineRef): Promise<LogTip | undefined>;
  /** Every machine that has a log. */
  machines(): Promise<MachineRef[]>;
  close(): Promise<void>;
}

export const machineKey = (m: MachineRef): string => `${m.tenant}/${m.machine}`;
