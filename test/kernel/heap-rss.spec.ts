// RSS follows the kernel, through the services: recorded heap programs replayed through
// HeapService, their resident pages counted with mincore (VmaService.Syscall) over the break and
// the mmapped chunks, and compared with the traces' `resident` line (how, and why smaps' Rss
// may be lower: heap-rss-support.ts). prog-mixed-1 by default (each trace is tens of seconds of
// RPCs); MMSIM_HEAP_RSS_TRACES=all runs every generated program but prog-edge-10 (its
// zero-page reads: heap-rss-zero-page.spec.ts), and MMSIM_HEAP_RSS_TRACES=a,b names some.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, expectLogReplays, GiB, startEmbedded, type EmbeddedServer } from './support.js';
import { replayThroughServices, type Outcome } from './heap-rss-support.js';

const ALL = ['prog-mixed-1', 'prog-mixed-2', 'prog-mixed-3', 'prog-small-4', 'prog-large-5', 'prog-mmap-6', 'prog-tuned-7', 'prog-tuned-8', 'prog-edge-9'];
const env = process.env.MMSIM_HEAP_RSS_TRACES;
const TRACES = env === 'all' ? ALL : env ? env.split(',') : ['prog-mixed-1'];

describe('resident pages of recorded heap programs, replayed through the services', () => {
  let srv: EmbeddedServer;
  const outcomes: Record<string, Outcome> = {};

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    // The traces were recorded on a 24 GiB machine without swap; nothing here runs short.
    const m = await createMachine(c, 'heaprss', { ramBytes: 2 * GiB });
    for (const name of TRACES) outcomes[name] = await replayThroughServices(c, m, name);
    await srv.stop();
  }, 120_000 * TRACES.length);
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
    await expectLogReplays(srv, 'heaprss');
  });
});
