import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_POSITION, type MachineRef } from '../event-log.js';
import { appendLower, logContract } from '../log.contract.js';
import { FileEventLog, type RepairReport } from './file-event-log.js';
import { HEADER_SIZE } from './format.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mmsim-filelog-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let n = 0;
logContract('FileEventLog', async () => {
  const log = await FileEventLog.open(tempDir());
  return { log, machine: () => ({ tenant: 'acme', machine: `m${++n}` }), close: () => log.close() };
});

const m: MachineRef = { tenant: 'acme', machine: 'box' };
const g = (first: number) => ({ type: 'Granted', first, n: 1 }) as const;

/** Three records (seqs 1, 2, 3) in a fresh directory; returns the directory and the file. */
async function threeRecords(): Promise<{ dir: string; path: string; sizes: number[] }> {
  const dir = tempDir();
  const log = await FileEventLog.open(dir);
  const path = log.pathOf(m);
  const sizes: number[] = [];
  let pos = EMPTY_POSITION;
  for (const first of [100, 101, 102]) {
    pos = (await appendLower(log, m, pos, [g(first)])).position;
    sizes.push(statSync(path).size);
  }
  await log.close();
  return { dir, path, sizes };
}

describe('FileEventLog: the file', () => {
  it('starts with the 16-byte header and frames each record with its length and CRC-32', async () => {
    const { path, sizes } = await threeRecords();
    const b = readFileSync(path);
    expect(b.subarray(0, 8).toString('latin1')).toBe('MMSIMLOG');
    expect(b.readUInt32LE(8)).toBe(1);
    const len = b.readUInt32LE(HEADER_SIZE);
    expect(HEADER_SIZE + 8 + len).toBe(sizes[0]);
  });

  it('cuts a torn last record when opened, and appends after the good ones', async () => {
    const { dir, path, sizes } = await threeRecords();
    truncateSync(path, sizes[2] - 3); // a crash in the middle of writing record 3
    const reports: RepairReport[] = [];
    const log = await FileEventLog.open(dir, { onRepair: (r) => reports.push(r) });
    expect(await log.tip(m)).toMatchObject({ seq: 2 });
    expect(reports).toMatchObject([{ offset: sizes[1], bytesCut: sizes[2] - 3 - sizes[1] }]);
    expect(statSync(path).size).toBe(sizes[1]);
    const r = await appendLower(log, m, { seq: 2, streamSeq: 2, serviceSeqs: { vma: 2 } }, [g(102)]);
    expect(r.envelopes.map((e) => Number(e.seq))).toEqual([3]);
    await log.close();
  });

  it('cuts a tail of zeros (a machine crash after the size grew) and a lone partial frame header', async () => {
    const { dir, path, sizes } = await threeRecords();
    appendFileSync(path, Buffer.alloc(4096));
    const log = await FileEventLog.open(dir, { onRepair: () => undefined });
    expect(await log.tip(m)).toMatchObject({ seq: 3 });
    expect(statSync(path).size).toBe(sizes[2]);
    await log.close();
    appendFileSync(path, Buffer.from([7, 0, 0]));
    const again = await FileEventLog.open(dir, { onRepair: () => undefined });
    expect(await again.tip(m)).toMatchObject({ seq: 3 });
    await again.close();
  });

  it('refuses a file damaged in the middle unless told to cut it', async () => {
    const { dir, path, sizes } = await threeRecords();
    const b = readFileSync(path);
    b[sizes[0] + 12] ^= 0xff; // a byte of record 2's payload
    writeFileSync(path, b);
    const log = await FileEventLog.open(dir);
    await expect(log.tip(m)).rejects.toMatchObject({ name: 'LogCorruptError' });
    await log.close();
    const cut = await FileEventLog.open(dir, { repairCorrupt: true, onRepair: () => undefined });
    expect(await cut.tip(m)).toMatchObject({ seq: 1 });
    await cut.close();
  });

  it('allows one writer per directory; readers need no lock', async () => {
    const { dir } = await threeRecords();
    const w = await FileEventLog.open(dir);
    await expect(FileEventLog.open(dir)).rejects.toMatchObject({ name: 'LogLockedError' });
    const r = await FileEventLog.open(dir, { readOnly: true });
    expect(await r.tip(m)).toMatchObject({ seq: 3 });
    // The reader sees what the writer appends later.
    await appendLower(w, m, { seq: 3, streamSeq: 3, serviceSeqs: { vma: 3 } }, [g(103)]);
    expect(await r.tip(m)).toMatchObject({ seq: 4 });
    await expect(appendLower(r, m, EMPTY_POSITION, [g(1)])).rejects.toMatchObject({ name: 'LogUnavailableError' });
    await r.close();
    await w.close();
    const w2 = await FileEventLog.open(dir);
    await w2.close();
  });

  it('takes over the lock of a writer that died', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.lock'), '999999999\n');
    const log = await FileEventLog.open(dir);
    await log.close();
  });

  it('fsyncs each append when asked', async () => {
    const log = await FileEventLog.open(tempDir(), { fsync: true });
    const r = await appendLower(log, m, EMPTY_POSITION, [g(100)]);
    expect(r.position.seq).toBe(1);
    await log.close();
  });
});
