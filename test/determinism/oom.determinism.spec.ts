// The same scenario and seed in embedded mode, on fresh servers with fresh log directories,
// gives byte-identical .mmlog files (docs/architecture.md "Determinism"). The runs go side by
// side in one process, so timing and interleaving differ between them; only the seed may
// change the log, and a different seed does.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type EmbeddedServer } from '../e2e/support/embedded.js';
import { runOomScenario, type OomRun } from '../e2e/support/oom-scenario.js';

describe('determinism: same scenario, same seed, same bytes', () => {
  const servers: EmbeddedServer[] = [];
  let runs: OomRun[];
  let logs: Buffer[];

  beforeAll(async () => {
    servers.push(...(await Promise.all([startEmbedded(), startEmbedded(), startEmbedded()])));
    const seeds = [7, 7, 8];
    runs = await Promise.all(servers.map((s, i) => runOomScenario(s.client, 'det', { seed: seeds[i], scale: 2 })));
    for (const s of servers) await s.stop(); // the file is complete and closed
    logs = servers.map((s) => readFileSync(s.logFile('det')));
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.dispose();
  });

  it('two runs with seed 7 write byte-identical logs', () => {
    expect(logs[0].length).toBeGreaterThan(16);
    const first = firstDifference(logs[0], logs[1]);
    expect(first, `the logs differ from byte ${first}`).toBe(-1);
    expect(runs[1].kills).toEqual(runs[0].kills);
  });

  it('seed 8 writes another log (the seed reaches the model: ASLR places the heaps elsewhere)', () => {
    expect(firstDifference(logs[0], logs[2])).not.toBe(-1);
    expect(runs[2].addresses).not.toEqual(runs[0].addresses);
  });
});

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
