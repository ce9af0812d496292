// Golden logs, replayed on every test run (as Temporal replays its history_files): a log the
// model wrote must still replay with every state hash and decision reproduced. When a model
// change breaks this, either the change is a bug, or it is meant to change what the scenario
// does: then re-record (npx tsx test/replay/record-golden.ts) in the same commit and say so.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayFile } from '@mmsim/eventlog';
import { MODEL_VERSION } from '@mmsim/kernel';
import { replayRegistry } from '@mmsim/service-all-in-one';
import { GOLDEN_FILE, GOLDEN_MACHINE } from './record-golden.js';
import { envelopesOf, tamper } from './support/tamper.js';

describe(`golden log ${GOLDEN_MACHINE}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mmsim-golden-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is committed', () => {
    expect(existsSync(GOLDEN_FILE), `${GOLDEN_FILE} is missing: npx tsx test/replay/record-golden.ts`).toBe(true);
  });

  it('replays cleanly with today\'s model', async () => {
    const envelopes = envelopesOf(GOLDEN_FILE);
    const written = [...new Set(envelopes.map((e) => e.modelVersion))].join(', ');
    const r = await replayFile(GOLDEN_FILE, { registry: replayRegistry() });
    const d = r.divergence;
    expect(
      d,
      d &&
        `the golden log no longer replays: seq ${d.seq} (${d.service} ${d.eventType}): log says ${d.expected}, replay got ${d.got} (${d.detail}).\n` +
          `It was written by MODEL_VERSION ${written}; the model is now ${MODEL_VERSION}. If the model change is meant to change this scenario, ` +
          're-record it (npx tsx test/replay/record-golden.ts) and say so in the commit; otherwise the change broke replay of old logs.',
    ).toBeUndefined();
    expect(r.envelopes).toBe(envelopes.length);
    // What the scenario is about: one global OOM kill of `batch` (oom_score_adj 500).
    const kills = envelopes.filter((e) => (e.event?.value as { event?: { $case: string } }).event?.$case === 'oomKillDecided');
    expect(kills).toHaveLength(1);
  });

  it('an altered copy fails at the altered seq (the checker checks)', async () => {
    const bad = join(tmp, 'bad.mmlog');
    copyFileSync(GOLDEN_FILE, bad);
    const seq = tamper(GOLDEN_FILE, bad, (e) => {
      if (e.service !== 'frames' || Number(e.serviceSeq) !== 5) return false;
      e.stateHash = e.stateHash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      return true;
    });
    const r = await replayFile(bad, { registry: replayRegistry() });
    expect(r.divergence).toMatchObject({ seq, service: 'frames' });
  });
});
