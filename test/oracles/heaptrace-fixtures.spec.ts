// Every recorded fixture (test/fixtures/heaptrace, recorded on glibc 2.36 by
// tools/heaptrace/record-fixtures.sh) replayed through the heap model: every result at the same
// offset from heap_base (or both mmapped, or both NULL), the same mallopt/malloc_trim returns,
// mallinfo2 equal, and for heap programs the same resident pages. No tolerance.
//
// KNOWN_DIVERGENCES lists fixtures the model does not match yet, with what differs; they run
// as expected failures, so a fix turns them red until they are taken off the list.

import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, listTraces } from './heaptrace-support.js';
import { describeMismatch, replayFile } from './heaptrace-replay.js';

const KNOWN_DIVERGENCES: Readonly<Record<string, string>> = {};

const fixtures = listTraces(FIXTURES_DIR);

describe('heap model replays every recorded fixture exactly', () => {
  it('has fixtures to replay', () => expect(fixtures.length).toBeGreaterThanOrEqual(30));

  for (const f of fixtures) {
    const known = KNOWN_DIVERGENCES[f.name];
    const test = known === undefined ? it : it.fails;
    test(`${f.name}${known === undefined ? '' : ` (known divergence: ${known})`}`, () => {
      const c = replayFile(f.path);
      expect(c.result.died, describeMismatch(c)).toBeNull();
      expect(c.comparison.ok, describeMismatch(c)).toBe(true);
    });
  }
});
