// The reference recordings beside the project (/work/shared/oracles/heaptrace/traces, recorded
// on Debian 12 glibc 2.36 with another recorder), replayed through the heap model with the same
// exact rules as our own fixtures. Skips when the directory is absent (a plain clone).

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listTraces, SHARED_TRACES_DIR } from './heaptrace-support.js';
import { describeMismatch, replayFile } from './heaptrace-replay.js';

// Traces the model does not match yet; they run as expected failures (see heaptrace-fixtures.spec.ts).
const KNOWN_DIVERGENCES: Readonly<Record<string, string>> = {};

const present = existsSync(SHARED_TRACES_DIR);
const traces = listTraces(SHARED_TRACES_DIR);

describe.skipIf(!present)('heap model replays the shared reference traces exactly', () => {
  it('finds the traces', () => expect(traces.length).toBeGreaterThan(0));

  for (const f of traces) {
    const known = KNOWN_DIVERGENCES[f.name];
    const test = known === undefined ? it : it.fails;
    test(`${f.name}${known === undefined ? '' : ` (known divergence: ${known})`}`, () => {
      const c = replayFile(f.path);
      expect(c.result.died, describeMismatch(c)).toBeNull();
      expect(c.comparison.ok, describeMismatch(c)).toBe(true);
    });
  }
});
