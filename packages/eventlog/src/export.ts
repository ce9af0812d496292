// Export: a machine's log, from either backend, as a .mmlog file (the file log's format, so a
// file log's own file and the export of the same records are byte-identical).
import { rename, open } from 'node:fs/promises';
import { encodeBatch } from './codecs/envelope.js';
import type { EventLog, MachineRef } from './event-log.js';
import { fileHeader, frame } from './file/format.js';

export interface ExportChunk {
  /** The next bytes of the file. */
  readonly chunk: Uint8Array;
  /** Records and envelopes so far, and the last seq. */
  readonly records: number;
  readonly envelopes: number;
  readonly lastSeq: number;
}

export interface ExportOptions {
  /** Stop after the record that holds this seq (records are whole decisions). */
  readonly toSeq?: number;
}

/** The bytes of a .mmlog file of the machine: the header, then one chunk per record. */
export async function* exportChunks(log: EventLog, machine: MachineRef, opts: ExportOptions = {}): AsyncGenerator<ExportChunk> {
  let records = 0, envelopes = 0, lastSeq = 0;
  yield { chunk: fileHeader(), records, envelopes, lastSeq };
  for await (const r of log.records(machine, { toSeq: opts.toSeq })) {
    records++;
    envelopes += r.envelopes.length;
    lastSeq = Number(r.envelopes[r.envelopes.length - 1].seq);
    yield { chunk: frame(r.payload ?? encodeBatch(r.envelopes)), records, envelopes, lastSeq };
  }
}

export interface ExportResult {
  readonly path: string;
  readonly records: number;
  readonly envelopes: number;
  readonly lastSeq: number;
  readonly bytes: number;
}

/**
 * Writes the machine's log to `path` (through a temporary file renamed into place, so a
 * reader never sees half a file).
 */
export async function exportToFile(log: EventLog, machine: MachineRef, path: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  let last: ExportChunk | undefined;
  let bytes = 0;
  try {
    for await (const c of exportChunks(log, machine, opts)) {
      await fh.write(c.chunk);
      bytes += c.chunk.length;
      last = c;
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return { path, records: last?.records ?? 0, envelopes: last?.envelopes ?? 0, lastSeq: last?.lastSeq ?? 0, bytes };
}
