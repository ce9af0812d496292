// One .mmlog file on its own (an exported machine, a golden log): read it, or write one from
// records.
import { open } from 'node:fs/promises';
import { decodeBatch } from '../codecs/envelope.js';
import { LogCorruptError } from '../errors.js';
import type { LogRecord } from '../event-log.js';
import { checkHeader, HEADER_SIZE } from './format.js';
import { readFrames } from './frame-reader.js';

export interface ReadLogFileOptions {
  /** Told when the file ends in a torn record (which is not read). Default: throw LogCorruptError. */
  readonly onTorn?: (offset: number, reason: string) => void;
}

/** The records of a .mmlog file, in order. */
export async function* readLogFile(path: string, opts: ReadLogFileOptions = {}): AsyncGenerator<LogRecord> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, HEADER_SIZE));
    await fh.read(head, 0, head.length, 0);
    const h = checkHeader(head);
    if (h === 'empty') return;
    if (h !== 'ok') throw new LogCorruptError(path, h === 'torn' ? 'torn header' : h === 'version' ? 'unsupported format version' : 'not an mmsim log (bad magic)');
    for await (const f of readFrames(fh, HEADER_SIZE, size)) {
      if (f.kind === 'record') {
        const payload = f.payload.slice();
        const envelopes = decodeBatch(payload);
        yield { envelopes, streamSeq: Number(envelopes[envelopes.length - 1]?.seq ?? 0), payload };
        continue;
      }
      if (f.torn && opts.onTorn) {
        opts.onTorn(f.offset, f.reason);
        return;
      }
      throw new LogCorruptError(path, `${f.reason} at offset ${f.offset}${f.torn ? ' (torn tail)' : ''}`);
    }
  } finally {
    await fh.close();
  }
}
