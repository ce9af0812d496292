// Reads the frames of a .mmlog file between two offsets, in chunks, and says how the data
// ends: cleanly, torn (a crash mid-append) or corrupt.
import type { FileHandle } from 'node:fs/promises';
import { frameAt } from './format.js';

const CHUNK = 1 << 20;

export type FrameEvent =
  | { readonly kind: 'record'; readonly offset: number; readonly payload: Uint8Array }
  /** The data from `offset` to the end is not a valid record: torn if nothing valid could follow. */
  | { readonly kind: 'bad'; readonly offset: number; readonly reason: string; readonly torn: boolean };

async function isAllZero(fh: FileHandle, from: number, to: number): Promise<boolean> {
  const buf = new Uint8Array(Math.min(CHUNK, Math.max(0, to - from)));
  for (let at = from; at < to; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
    if (bytesRead === 0) return true;
    for (let i = 0; i < bytesRead; i++) if (buf[i] !== 0) return false;
    at += bytesRead;
  }
  return true;
}

/** Frames from `start` to `end` (exclusive). A payload is a view valid until the next step. */
export async function* readFrames(fh: FileHandle, start: number, end: number): AsyncGenerator<FrameEvent> {
  let buf = new Uint8Array(CHUNK);
  let bufStart = start; // file offset of buf[0]
  let have = 0; // valid bytes in buf
  let pos = 0; // position of the next frame in buf
  for (;;) {
    const f = frameAt(buf.subarray(0, have), pos);
    if (f.kind === 'record') {
      yield { kind: 'record', offset: bufStart + pos, payload: f.payload };
      pos += f.size;
      continue;
    }
    const offset = bufStart + pos;
    if (offset >= end) return;
    if (f.kind === 'bad') {
      const torn = offset + f.size >= end || (await isAllZero(fh, offset, end));
      yield { kind: 'bad', offset, reason: f.reason, torn };
      return;
    }
    // short: read more (keep the partial frame at the start of the buffer)
    if (offset + f.need > end) {
      const torn = true; // the frame runs past the end of the data
      yield { kind: 'bad', offset, reason: `record of ${f.need} bytes runs past the end (${end - offset} left)`, torn };
      return;
    }
    const keep = have - pos;
    if (f.need > buf.length) {
      const bigger = new Uint8Array(Math.max(f.need, buf.length * 2));
      bigger.set(buf.subarray(pos, have), 0);
      buf = bigger;
    } else {
      buf.copyWithin(0, pos, have);
    }
    bufStart = offset;
    pos = 0;
    have = keep;
    const want = Math.min(buf.length - have, end - (bufStart + have));
    const { bytesRead } = await fh.read(buf, have, want, bufStart + have);
    if (bytesRead === 0) {
      yield { kind: 'bad', offset, reason: 'file shrank while reading', torn: true };
      return;
    }
    have += bytesRead;
  }
}
