// Every real trace of ../shared/oracles/heaptrace (ls, grep, cc1, ..., the frag experiment,
// random heap programs with residency) replayed through the model: every result at the same
// offset from heap_base (or both mmapped, or both NULL), mallinfo2 equal, resident pages equal.
// sed and find (1M calls between them) are in oracle-big.spec.ts.
import { describe, expect, it } from 'vitest';
import { haveShared, replayShared, sharedTraceNames } from './oracle-support.js';

const BIG = new Set(['sed', 'find']);

describe.skipIf(!haveShared)('shared heaptrace oracles replay exactly', () => {
  const names = sharedTraceNames().filter((n) => !BIG.has(n));
  it('has the traces', () => expect(names.length).toBeGreaterThanOrEqual(25));
  it.each(names)('%s', (name) => {
    const { comparison, result } = replayShared(name);
    expect(result.died).toBeNull();
    expect(comparison.firstMismatch).toBeNull();
    expect(comparison).toMatchObject({ ok: true, mallinfo2Equal: true, residentEqual: true });
    expect(comparison.resultsMatched).toBe(comparison.resultsCompared);
  });
});
