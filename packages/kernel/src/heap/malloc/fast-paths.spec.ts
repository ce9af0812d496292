// The fast paths (fast-paths.ts, fast-free.ts, fast-malloc.ts) against the general path: every recorded trace
// replayed both ways ends with the same results, the same memory word for word (the state
// hash), the same statics and the same resident pages. The oracle specs only see what a
// trace records; a fast path that stored a wrong link or a stale size would show here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../trace/parse.js';
import { prepareReplay, replayTrace, type ReplayResult } from '../trace/replay.js';

const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/heaptrace/', import.meta.url));
const SHARED = '/work/shared/oracles/heaptrace/traces/';
/** The shared traces too big to replay twice in a unit test. */
const BIG = new Set(['sed', 'find']);

function traces(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.ht.gz') && !BIG.has(f.slice(0, -6))).map((f) => dir + f);
}

function fingerprint(r: ReplayResult): unknown {
  const h = r.ptmalloc.heap;
  return {
    replayed: r.replayed,
    died: r.died,
    results: Array.from(r.trace.calls.result.subarray(0, r.trace.calls.length)),
    memory: h.mem.digest().digest(),
    statics: Array.from(h.g),
    mallinfo2: r.trace.mallinfo2,
    resident: r.trace.resident,
    brk: r.sys.brkCurrent,
  };
}

describe('fast paths leave what the general path leaves', () => {
  const all = [...traces(FIXTURES), ...traces(SHARED)];
  it('has the fixtures', () => expect(all.length).toBeGreaterThanOrEqual(32));
  it.each(all.map((p) => [p.slice(p.lastIndexOf('/') + 1), p]))('%s', (_name, path) => {
    const prep = prepareReplay(parseTrace(gunzipSync(readFileSync(path)).toString('utf8')));
    const fast = replayTrace(prep);
    const general = replayTrace(prep, { fastPaths: false });
    expect(fingerprint(fast)).toEqual(fingerprint(general));
  });
});
