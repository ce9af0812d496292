import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '@mmsim/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBatch } from '../codecs/envelope.js';
import { toEnvelopeEvent } from '../codecs/codec.js';
import type { MachineRef } from '../event-log.js';
import { exportToFile } from '../export.js';
import { FileEventLog } from '../file/file-event-log.js';
import { fileHeader, frame } from '../file/format.js';
import { readLogFile } from '../file/log-file.js';
import { counter, counterCodec, counterRegistry, writeCounterLog, type CounterEvent } from './counter.testing.js';
import { replayFile, replayMachine, type ReplayProgress } from './replay.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mmsim-replay-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const m: MachineRef = { tenant: 'acme', machine: 'counter' };
const ADDS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4]; // 20 decisions, sum 97

async function counterLog() {
  const dir = tempDir();
  const log = await FileEventLog.open(dir);
  const written = await writeCounterLog(log, m, ADDS);
  return { dir, log, written };
}

/** Writes the records of `path` to a new file, with `edit` applied to each envelope. */
async function rewrite(path: string, edit: (e: Envelope) => Envelope | undefined): Promise<string> {
  const parts: Uint8Array[] = [fileHeader()];
  for await (const r of readLogFile(path)) {
    const envelopes = r.envelopes.map(edit).filter((e): e is Envelope => e !== undefined);
    if (envelopes.length) parts.push(frame(encodeBatch(envelopes)));
  }
  const out = join(tempDir(), 'edited.mmlog');
  writeFileSync(out, Buffer.concat(parts));
  return out;
}

const withEvent = (e: Envelope, ev: CounterEvent): Envelope => ({ ...e, event: toEnvelopeEvent(counterCodec, ev) });

describe('replay', () => {
  it('rebuilds the state the writer had, with every hash agreeing, and reports progress', async () => {
    const { log, written } = await counterLog();
    const progress: ReplayProgress[] = [];
    const report = await replayMachine(log, m, { registry: counterRegistry, onProgress: (p) => progress.push(p), progressEvery: 8 });
    expect(report.divergence).toBeUndefined();
    expect(report).toMatchObject({ machine: m, envelopes: 20, lastSeq: 20 });
    expect(report.states.frames).toEqual({ value: 97, adds: 20 });
    expect(report.aggregates).toEqual([{ service: 'frames', lastServiceSeq: 20, stateHash: counter.stateHash(written.state), replayed: true }]);
    expect(progress).toEqual([{ envelopes: 8, seq: 8 }, { envelopes: 16, seq: 16 }, { envelopes: 20, seq: 20 }]);
    await log.close();
  });

  it('stops at a seq', async () => {
    const { log, written } = await counterLog();
    const report = await replayMachine(log, m, { registry: counterRegistry, toSeq: 10 });
    expect(report).toMatchObject({ envelopes: 10, lastSeq: 10, divergence: undefined });
    expect(report.aggregates[0].stateHash).toBe(written.hashes[9]);
    expect(report.states.frames).toEqual({ value: 3 + 1 + 4 + 1 + 5 + 9 + 2 + 6 + 5 + 3, adds: 10 });
    await log.close();
  });

  it('catches an altered decision at its seq (the recorded total is not value + n)', async () => {
    const { dir, log } = await counterLog();
    await log.close();
    // Before seq 7 the value is 3+1+4+1+5+9 = 23; seq 7 added 2 (total 25). Make it say n=3, total 25.
    const altered = await rewrite(join(dir, 'acme', 'counter.mmlog'), (e) => (e.seq === 7n ? withEvent(e, { type: 'Added', n: 3, total: 25 }) : e));
    const report = await replayFile(altered, { registry: counterRegistry });
    expect(report.divergence).toEqual({ seq: 7, service: 'frames', eventType: 'Added', expected: 'total 25', got: 'total 26', detail: 'Added.total is not value + n' });
  });

  it('catches an altered event whose decision still adds up, by its state hash, at its seq', async () => {
    const { dir, log, written } = await counterLog();
    await log.close();
    const altered = await rewrite(join(dir, 'acme', 'counter.mmlog'), (e) => (e.seq === 7n ? withEvent(e, { type: 'Added', n: 3, total: 26 }) : e));
    const report = await replayFile(altered, { registry: { frames: { ...counterRegistry.frames, verify: undefined } } });
    expect(report.divergence).toMatchObject({ seq: 7, service: 'frames', eventType: 'Added', expected: written.hashes[6], detail: 'frames state hash after the event differs' });
    expect(report.divergence?.got).toBe(counter.stateHash({ value: 26, adds: 7 }));
    expect(report.lastSeq).toBe(6);
  });

  it('catches a missing record (a gap in seqs)', async () => {
    const { dir, log } = await counterLog();
    await log.close();
    const gap = await rewrite(join(dir, 'acme', 'counter.mmlog'), (e) => (e.seq === 12n ? undefined : e));
    const report = await replayFile(gap, { registry: counterRegistry });
    expect(report.divergence).toMatchObject({ seq: 13, expected: 'seq 12', got: 'seq 13', detail: 'seqs are not dense' });
  });

  it('skips the events of aggregates it does not know, and says so', async () => {
    const { log } = await counterLog();
    const report = await replayMachine(log, m, { registry: {} });
    expect(report.divergence).toBeUndefined();
    expect(report.aggregates).toMatchObject([{ service: 'frames', lastServiceSeq: 20, replayed: false }]);
    await log.close();
  });

  it('replays a log whose torn tail was cut: a crash mid-append loses only that append', async () => {
    const { dir, log, written } = await counterLog();
    await log.close();
    const path = join(dir, 'acme', 'counter.mmlog');
    truncateSync(path, statSync(path).size - 5);
    // Read as it is: the torn record is reported and not read.
    const torn: number[] = [];
    const asIs = await replayFile(path, { registry: counterRegistry, onTorn: (offset) => torn.push(offset) });
    expect(torn).toHaveLength(1);
    expect(asIs).toMatchObject({ lastSeq: 19, divergence: undefined });
    await expect(replayFile(path, { registry: counterRegistry })).rejects.toMatchObject({ name: 'LogCorruptError' });
    // Opened for writing, the tail is cut, and what remains replays to the writer's state at seq 19.
    const reopened = await FileEventLog.open(dir, { onRepair: () => undefined });
    const report = await replayMachine(reopened, m, { registry: counterRegistry });
    expect(report).toMatchObject({ lastSeq: 19, divergence: undefined });
    expect(report.aggregates[0].stateHash).toBe(written.hashes[18]);
    const exported = join(tempDir(), 'x.mmlog');
    await exportToFile(reopened, m, exported);
    expect((await replayFile(exported, { registry: counterRegistry })).lastSeq).toBe(19);
    await reopened.close();
  });
});
