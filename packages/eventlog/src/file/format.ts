// The .mmlog format: one file per machine (or one exported machine).
//
//   header   16 bytes: "MMSIMLOG" (8 ASCII bytes), format version u32 LE (1), flags u32 LE (0)
//   record*  u32 LE payload length, u32 LE CRC-32 (zlib) of the payload, payload
//
// The payload is an EnvelopeBatch (proto/mmsim/v1/envelope.proto): the events of one
// decision. Records are only ever appended. A record that runs past the end of the file, or a
// bad last record, or a tail of zero bytes is a torn write (a crash mid-append) and is cut off
// when the file is opened for writing; a bad record followed by good data is corruption.
import { crc32 } from 'node:zlib';

export const MAGIC = 'MMSIMLOG';
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 16;
export const FRAME_HEADER_SIZE = 8;
/** Larger lengths are garbage: no decision is this big. */
export const MAX_RECORD_SIZE = 64 * 1024 * 1024;
export const FILE_EXTENSION = '.mmlog';

export function fileHeader(): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE);
  b.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(b.buffer).setUint32(8, FORMAT_VERSION, true);
  return b;
}

export type HeaderCheck = 'ok' | 'empty' | 'torn' | 'foreign' | 'version';

/** Checks the first bytes of a file (`b` holds up to HEADER_SIZE of them). */
export function checkHeader(b: Uint8Array): HeaderCheck {
  if (b.length === 0) return 'empty';
  const want = fileHeader();
  const n = Math.min(b.length, 8);
  for (let i = 0; i < n; i++) if (b[i] !== want[i]) return 'foreign';
  if (b.length < HEADER_SIZE) return 'torn';
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true) === FORMAT_VERSION ? 'ok' : 'version';
}

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length, true);
  dv.setUint32(4, crc32(payload), true);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

export type FrameAt =
  | { readonly kind: 'record'; readonly payload: Uint8Array; readonly size: number }
  /** More bytes are needed than `buf` holds (the caller reads more, or it is the end of the file). */
  | { readonly kind: 'short'; readonly need: number }
  | { readonly kind: 'bad'; readonly reason: string; readonly size: number };

/** The frame at `pos` of `buf`. */
export function frameAt(buf: Uint8Array, pos: number): FrameAt {
  if (buf.length - pos < FRAME_HEADER_SIZE) return { kind: 'short', need: FRAME_HEADER_SIZE };
  const dv = new DataView(buf.buffer, buf.byteOffset + pos, FRAME_HEADER_SIZE);
  const len = dv.getUint32(0, true);
  const sum = dv.getUint32(4, true);
  if (len === 0 || len > MAX_RECORD_SIZE) return { kind: 'bad', reason: `record length ${len}`, size: FRAME_HEADER_SIZE + len };
  if (buf.length - pos < FRAME_HEADER_SIZE + len) return { kind: 'short', need: FRAME_HEADER_SIZE + len };
  const payload = buf.subarray(pos + FRAME_HEADER_SIZE, pos + FRAME_HEADER_SIZE + len);
  if (crc32(payload) !== sum) return { kind: 'bad', reason: 'checksum mismatch', size: FRAME_HEADER_SIZE + len };
  return { kind: 'record', payload, size: FRAME_HEADER_SIZE + len };
}
