// RSS follows the kernel, through the services: prog-edge-10, a recorded heap program whose heap
// has pages that were only ever read (how the replay works: heap-rss-support.ts). mincore counts
// them, mapped to the zero page, as the recording did; Rss does not (12 pages fewer), as in the
// kernel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, expectLogReplays, GiB, startEmbedded, type EmbeddedServer } from './support.js';
import { replayThroughServices, type Outcome } from './heap-rss-support.js';

const TRACES = ['prog-edge-10'];

describe('resident pages of recorded heap programs, replayed through the services', () => {
  let srv: EmbeddedServer;
  const outcomes: Record<string, Outcome> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    // The traces were recorded on a 24 GiB machine without swap; nothing here runs short.
    const m = await createMachine(c, 'heaprss0', { ramBytes: 2 * GiB });
    for (const name of TRACES) outcomes[name] = await replayThroughServices(c, m, name);
    await srv.stop();
  }, 180_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  for (const name of TRACES) {
    it(`${name}: every call runs, the brk-area addresses are the recorded ones`, () => {
      const o = outcomes[name];
      expect(o.died).toBe('');
      expect(o.calls).toBe(o.trace.calls.length);
      expect(o.brkResults).toBeGreaterThan(50);
      expect(o.brkResultsMatched).toBe(o.brkResults);
    });

    it(`${name}: mincore over the heap and the mmapped chunks counts the recorded resident pages; Rss never more`, () => {
      const o = outcomes[name];
      const real = o.trace.resident!;
      expect(real).not.toBeNull();
      if (process.env.MMSIM_REPORT) process.stderr.write(`${name} ${JSON.stringify({ real, sim: o })}\n`);
      expect({ heapPages: o.heapPages, mmapPages: o.mmapPages }).toEqual({ heapPages: real.heapPages, mmapPages: real.mmapPages });
      expect(o.heapRss).toBeLessThanOrEqual(o.heapPages);
      expect(o.mmapRss).toBeLessThanOrEqual(o.mmapPages);
    });
  }

  it('the log replays', async () => {
    await expectLogReplays(srv, 'heaprss0');
  });
});
