// fs/proc/base.c oom_adj_read() / oom_adj_write(), by hand.
import { describe, expect, it } from 'vitest';
import { oomAdjFromScoreAdj, scoreAdjFromOomAdj } from './legacy-adj.js';

describe('legacy oom_adj <-> oom_score_adj', () => {
  it('reads adj * 17 / 1000, truncated toward zero, with 1000 -> 15', () => {
    expect(oomAdjFromScoreAdj(1000)).toBe(15);
    expect(oomAdjFromScoreAdj(999)).toBe(16); // 16983 / 1000: one more than OOM_ADJUST_MAX
    expect(oomAdjFromScoreAdj(941)).toBe(15); // 15997 / 1000
    expect(oomAdjFromScoreAdj(-1000)).toBe(-17);
    expect(oomAdjFromScoreAdj(-500)).toBe(-8); // -8500 / 1000 = -8.5 -> -8
    expect(oomAdjFromScoreAdj(58)).toBe(0); // 986 / 1000
  });
  it('writes oom_adj * 1000 / 17, with 15 -> 1000 and -17 -> -1000', () => {
    expect(scoreAdjFromOomAdj(15)).toBe(1000);
    expect(scoreAdjFromOomAdj(-17)).toBe(-1000);
    expect(scoreAdjFromOomAdj(3)).toBe(176); // 3000 / 17 = 176.47
    expect(scoreAdjFromOomAdj(-3)).toBe(-176);
  });
});
