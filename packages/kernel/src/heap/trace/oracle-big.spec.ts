// The two big real traces: sed (680k calls) and find (355k calls), replayed exactly.
import { describe, expect, it } from 'vitest';
import { haveShared, replayShared } from './oracle-support.js';

describe.skipIf(!haveShared)('big shared heaptrace oracles replay exactly', () => {
  it.each(['sed', 'find'])('%s', (name) => {
    const { comparison, result } = replayShared(name);
    expect(result.died).toBeNull();
    expect(comparison.firstMismatch).toBeNull();
    expect(comparison.ok).toBe(true);
  });
});
