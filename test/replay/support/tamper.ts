// Copies a .mmlog file with one event altered: finds the first envelope `edit` changes, and
// writes its record again (EnvelopeBatch re-encoded, a new CRC-32), so the copy is a valid log
// that says something else at exactly that seq.
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeBatch, encodeBatch } from '@mmsim/eventlog';
import type { Envelope } from '@mmsim/proto';
import { frame, FRAME_HEADER_SIZE, HEADER_SIZE } from '../../../packages/eventlog/src/file/format.js';

/** The payloads of a .mmlog file's records, with their offsets. */
export function recordsOf(bytes: Uint8Array): { offset: number; size: number; payload: Uint8Array }[] {
  const out = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = HEADER_SIZE; at < bytes.length; ) {
    const len = dv.getUint32(at, true);
    out.push({ offset: at, size: FRAME_HEADER_SIZE + len, payload: bytes.subarray(at + FRAME_HEADER_SIZE, at + FRAME_HEADER_SIZE + len) });
    at += FRAME_HEADER_SIZE + len;
  }
  return out;
}

/** Every envelope of a .mmlog file, in order. */
export function envelopesOf(path: string): Envelope[] {
  return recordsOf(readFileSync(path)).flatMap((r) => decodeBatch(r.payload));
}

/**
 * Writes `to`: `from` with the first envelope for which `edit` returns true (having changed it
 * in place) re-encoded. Returns that envelope's seq.
 */
export function tamper(from: string, to: string, edit: (e: Envelope) => boolean): number {
  const bytes = readFileSync(from);
  for (const r of recordsOf(bytes)) {
    const envelopes = decodeBatch(r.payload);
    const hit = envelopes.find((e) => edit(e));
    if (!hit) continue;
    const framed = frame(encodeBatch(envelopes));
    writeFileSync(to, Buffer.concat([bytes.subarray(0, r.offset), framed, bytes.subarray(r.offset + r.size)]));
    return Number(hit.seq);
  }
  throw new Error(`no envelope of ${from} matched`);
}
