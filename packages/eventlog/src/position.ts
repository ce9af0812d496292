// LogPosition arithmetic: fold records into a position, and merge a position learned from
// another service into one's own.
import type { Envelope } from '@mmsim/proto';
import { LogCorruptError, LogFencedError, LogPositionError } from './errors.js';
import type { LogPosition, LogRecord } from './event-log.js';

/** The position after `envelopes` (consecutive seqs right after `pos`); throws on a gap. */
export function advancePosition(pos: LogPosition, envelopes: readonly Envelope[], streamSeq: number, where = 'log'): LogPosition {
  if (envelopes.length === 0) return pos;
  const serviceSeqs: Record<string, number> = { ...pos.serviceSeqs };
  let seq = pos.seq;
  for (const e of envelopes) {
    const s = Number(e.seq);
    if (s !== seq + 1) throw new LogCorruptError(where, `seq ${s} follows ${seq}`);
    const ss = Number(e.serviceSeq);
    const prev = serviceSeqs[e.service] ?? 0;
    if (ss !== prev + 1) throw new LogCorruptError(where, `${e.service} service_seq ${ss} follows ${prev} (seq ${s})`);
    serviceSeqs[e.service] = ss;
    seq = s;
  }
  return { seq, streamSeq, serviceSeqs };
}

export const advanceByRecord = (pos: LogPosition, r: LogRecord, where?: string): LogPosition =>
  advancePosition(pos, r.envelopes, r.streamSeq, where);

/**
 * Merges a position learned from another service (`hint`) into the writer's own (`mine`), for
 * the writer of `service`. A hint further along says what happened since; if it counts more
 * records of the writer's own service than the writer knows, someone else wrote them: the
 * writer is stale (LogFencedError).
 */
export function mergePosition(mine: LogPosition, hint: LogPosition | undefined, service: string, where = 'log'): LogPosition {
  if (!hint || hint.streamSeq <= mine.streamSeq) return mine;
  const have = mine.serviceSeqs[service] ?? 0;
  const told = hint.serviceSeqs[service] ?? 0;
  if (told > have) throw new LogFencedError(where, hint.seq, service, told);
  if (told < have || hint.seq < mine.seq) {
    throw new LogPositionError(`${where}: position ${describePosition(hint)} is ahead of ${describePosition(mine)} but knows less`);
  }
  return hint;
}

export function describePosition(p: LogPosition): string {
  const svc = Object.keys(p.serviceSeqs).sort().map((k) => `${k}=${p.serviceSeqs[k]}`).join(',');
  return `seq ${p.seq} @${p.streamSeq} [${svc}]`;
}

/** Checks the shape of a position that came over the wire. */
export function isLogPosition(x: unknown): x is LogPosition {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  if (!Number.isSafeInteger(p.seq) || !Number.isSafeInteger(p.streamSeq)) return false;
  if (typeof p.serviceSeqs !== 'object' || p.serviceSeqs === null) return false;
  return Object.values(p.serviceSeqs as Record<string, unknown>).every((v) => Number.isSafeInteger(v));
}
