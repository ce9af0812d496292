// Replay of an embedded run's log: the API (replayFile with all-in-one's replayRegistry) and
// `mmsim replay FILE [--until SEQ]` reproduce every state hash and the OOM decision; a copy with
// one event altered (and a valid CRC) is caught exactly at that event, with what the log says
// and what replay got.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, replayFile } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import type { Envelope } from '@mmsim/proto';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';
import { runOomScenario, type OomRun } from '../e2e/support/oom-scenario.js';
import { MMSIM_BIN } from '../distributed/support/cluster.js';
import { envelopesOf, recordsOf, tamper } from './support/tamper.js';

const mmsim = (...args: string[]) => spawnSync(process.execPath, [MMSIM_BIN, ...args], { encoding: 'utf8' });

/** The inner event of an envelope: { $case: 'heapCallCompleted', value } etc. */
const inner = (e: Envelope): { $case: string; value: Record<string, unknown> } | undefined =>
  (e.event?.value as { event?: { $case: string; value: Record<string, unknown> } } | undefined)?.event;

describe('replay of an embedded log', () => {
  let srv: EmbeddedServer;
  let run: OomRun;
  let file: string;
  let envelopes: Envelope[];

  beforeAll(async () => {
    srv = await startEmbedded();
    run = await runOomScenario(srv.client, 'rep', { scale: 2 });
    await srv.stop();
    file = join(srv.dir, 'rep.mmlog');
    copyFileSync(srv.logFile('rep'), file);
    envelopes = envelopesOf(file);
  }, 90_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('reproduces every state hash and the OOM decision, to the last event of each aggregate', async () => {
    const r = await replayFile(file, { registry: replayRegistry() });
    expect(r.divergence).toBeUndefined();
    expect(r.envelopes).toBe(envelopes.length);
    expect(r.lastSeq).toBe(Number(envelopes[envelopes.length - 1].seq));
    for (const a of r.aggregates) {
      const last = envelopes.filter((e) => e.service === a.service).at(-1)!;
      expect(a.replayed, a.service).toBe(true);
      expect(a.lastServiceSeq, a.service).toBe(Number(last.serviceSeq));
      expect(a.stateHash, a.service).toBe(last.stateHash);
    }
    expect(r.aggregates.map((a) => a.service).sort()).toEqual(['frames', 'heap', 'oom', 'vma']);
    // The kill the API reported is in the log at the seq it named.
    const kill = envelopes.find((e) => Number(e.seq) === Number(run.kills[0].seq))!;
    expect(inner(kill)?.$case).toBe('oomKillDecided');
  });

  it('`mmsim replay FILE` says so and exits 0', () => {
    const r = mmsim('replay', file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`replayed ${envelopes.length} events of default/rep up to seq ${envelopes.length}`);
    expect(r.stdout).toContain('every state hash and every recorded decision reproduced');
  });

  it('--until SEQ stops there (API and CLI), also inside a record', async () => {
    // A seq in the middle of a decision's record (the first of several events plus one).
    const batch = recordsOf(readFileSync(file)).map((r) => decodeBatch(r.payload)).find((b) => b.length >= 3 && Number(b[0].seq) > 20)!;
    const until = Number(batch[0].seq) + 1;
    const r = await replayFile(file, { registry: replayRegistry(), toSeq: until });
    expect(r.divergence).toBeUndefined();
    expect(r.lastSeq).toBe(until);
    expect(r.envelopes).toBe(until);
    const cli = mmsim('replay', file, '--until', String(until), '--json');
    expect(cli.status, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout) as { lastSeq: number; divergence: unknown };
    expect(j.lastSeq).toBe(until);
    expect(j.divergence).toBeNull();
  });

  it('catches an altered malloc address exactly at its event', async () => {
    const bad = join(srv.dir, 'bad-address.mmlog');
    let was = 0n;
    const seq = tamper(file, bad, (e) => {
      const ev = inner(e);
      if (ev?.$case !== 'heapCallCompleted') return false;
      const result = (ev.value.result as { result?: { $case: string; value: { value: bigint } } }).result;
      if (ev.value.call !== 1 || result?.$case !== 'pointer' || result.value.value === 0n) return false; // 1: malloc
      was = result.value.value;
      result.value.value += 16n;
      return true;
    });
    const r = await replayFile(bad, { registry: replayRegistry() });
    expect(r.divergence).toMatchObject({ seq, service: 'heap', eventType: 'HeapCallCompleted' });
    expect(r.lastSeq).toBe(seq - 1);
    // What the log says (the altered address) and what replay got (the real one) both show.
    expect(`${r.divergence!.expected} ${r.divergence!.got} ${r.divergence!.detail}`).toMatch(new RegExp(`${(was + 16n).toString(16)}|${was + 16n}`));
    const cli = mmsim('replay', bad);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain(`DIVERGENCE at seq ${seq} (heap HeapCallCompleted)`);
  });

  it('catches an altered vma page count (Committed_AS charged by an mmap) exactly at its event', async () => {
    const bad = join(srv.dir, 'bad-pages.mmlog');
    const seq = tamper(file, bad, (e) => {
      const ev = inner(e);
      if (ev?.$case !== 'vmaMapped' || (ev.value.chargedPages as bigint) <= 0n) return false;
      ev.value.chargedPages = (ev.value.chargedPages as bigint) + 1n;
      return true;
    });
    const r = await replayFile(bad, { registry: replayRegistry() });
    expect(r.divergence).toMatchObject({ seq, service: 'vma', eventType: 'VmaMapped' });
    const recorded = envelopes.find((e) => Number(e.seq) === seq)!.stateHash;
    // The log's hash is the one computed with the true count; replay, applying the altered
    // count, gets another.
    expect(r.divergence!.expected).toBe(recorded);
    expect(r.divergence!.got).toMatch(/^[0-9a-f]{16}$/);
    expect(r.divergence!.got).not.toBe(recorded);
  });

  it('catches an altered OOM victim exactly at the decision, re-deciding from its candidate table', async () => {
    const bad = join(srv.dir, 'bad-victim.mmlog');
    const victim = run.kills[0].victim;
    const other = run.pids.leaky;
    const seq = tamper(file, bad, (e) => {
      const ev = inner(e);
      if (ev?.$case !== 'oomKillDecided') return false;
      const killed = ev.value.killed as { pid: number; tgid: number }[];
      killed[0].pid = other;
      killed[0].tgid = other;
      ev.value.chosen = other;
      return true;
    });
    expect(seq).toBe(Number(run.kills[0].seq));
    const r = await replayFile(bad, { registry: replayRegistry() });
    expect(r.divergence).toMatchObject({ seq, service: 'oom', eventType: 'OomKillDecided', expected: `kill ${other}`, got: `kill ${victim}` });
    const cli = mmsim('replay', bad);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`DIVERGENCE at seq ${seq} \\(oom OomKillDecided\\)\\n  log says:    kill ${other}\\n  replay got:  kill ${victim}`));
  });
});
