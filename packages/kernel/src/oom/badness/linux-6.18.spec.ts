// mm/oom_kill.c oom_badness() and fs/proc/base.c proc_oom_score() of 5.9+, by hand:
//   points = rss_file + rss_anon + rss_shmem + swapents + pgtables_bytes / 4096
//   points += oom_score_adj * (totalpages / 1000)        (the division first, in C)
//   oom_score = (1000 + points * 1000 / totalpages) * 2 / 3,   0 when not a candidate
import { describe, expect, it } from 'vitest';
import { oomTask } from '../task-builder.js';
import { oomBadness, oomScore618 } from './linux-6.18.js';

const T = 1_000_000; // totalpages

describe('linux-6.18 oom_badness and /proc/<pid>/oom_score', () => {
  it('a small task with adj 0 reads 666', () => {
    // rss 60 + 30 + 10 = 100, pgtables 4096 B = 1 page -> 101 points
    // oom_score = (1000 + 101000 / 1000000) * 2 / 3 = (1000 + 0) * 2 / 3 = 666
    const t = oomTask({ pid: 10, mm: { rssAnon: 60, rssFile: 30, rssShmem: 10, pgtablesBytes: 4096 } });
    const e = oomBadness(t, T);
    expect(e.points).toBe(101);
    expect(oomScore618(e.points, T)).toBe(666);
  });

  it('counts swap entries and page tables (bytes / 4096, truncated)', () => {
    // 100 + 50 swap + 8191 / 4096 = 1 -> 151
    const t = oomTask({ pid: 10, mm: { rssAnon: 100, swapEnts: 50, pgtablesBytes: 8191 } });
    expect(oomBadness(t, T).points).toBe(151);
  });

  it('oom_score_adj -1000 is not a candidate and reads 0', () => {
    const t = oomTask({ pid: 10, oomScoreAdj: -1000, mm: { rssAnon: 500_000 } });
    const e = oomBadness(t, T);
    expect(e.points).toBe('LONG_MIN');
    expect(e.skip).toBe('oom-score-adj-min');
    expect(oomScore618(e.points, T)).toBe(0);
  });

  it('oom_score_adj 1000 adds a whole totalpages and reads 1333', () => {
    // 101 + 1000 * (1000000 / 1000) = 1000101; (1000 + 1000101000 / 1000000) * 2 / 3 = (1000 + 1000) * 2 / 3 = 1333
    const t = oomTask({ pid: 10, oomScoreAdj: 1000, mm: { rssAnon: 100, pgtablesBytes: 4096 } });
    const e = oomBadness(t, T);
    expect(e.points).toBe(1_000_101);
    expect(oomScore618(e.points, T)).toBe(1333);
  });

  it('divides totalpages by 1000 before multiplying by the adj', () => {
    // totalpages 1999: 1999 / 1000 = 1, so adj 500 adds 500 (not 999.5)
    // oom_score = (1000 + 500000 / 1999) * 2 / 3 = (1000 + 250) * 2 / 3 = 833
    const t = oomTask({ pid: 10, oomScoreAdj: 500, mm: {} });
    const e = oomBadness(t, 1999);
    expect(e.points).toBe(500);
    expect(oomScore618(e.points, 1999)).toBe(833);
  });

  it('goes negative, and oom_score truncates toward zero as C does', () => {
    // 100 - 500 * 1000 = -499900; -499900000 / 1000000 = -499.9 -> -499 (C), not -500
    // (1000 - 499) * 2 / 3 = 1002 / 3 = 334   (Math.floor would give 333)
    const t = oomTask({ pid: 10, oomScoreAdj: -500, mm: { rssAnon: 100 } });
    const e = oomBadness(t, T);
    expect(e.points).toBe(-499_900);
    expect(oomScore618(e.points, T)).toBe(334);
  });

  it('skips init, kernel threads, tasks without mm, reaped mms and vfork parents', () => {
    expect(oomBadness(oomTask({ pid: 1, mm: { rssAnon: 10 } }), T).skip).toBe('global-init');
    expect(oomBadness(oomTask({ pid: 2, isKthread: true, mm: null }), T).skip).toBe('kernel-thread');
    expect(oomBadness(oomTask({ pid: 3, mm: null }), T).skip).toBe('no-mm');
    expect(oomBadness(oomTask({ pid: 4, mm: { rssAnon: 10, oomSkip: true } }), T).skip).toBe('mm-oom-skip');
    expect(oomBadness(oomTask({ pid: 5, inVfork: true, mm: { rssAnon: 10 } }), T).skip).toBe('in-vfork');
  });

  it('reproduces the kernel on two processes of the shared 6.18 snapshot (reference note)', () => {
    // snapshot-a: MemTotal 24684084 kB, no swap -> totalpages 6171021.
    // pid 16933: RssAnon 160572 + RssFile 6720 + RssShmem 0 kB = 167292 kB = 41823 pages;
    // VmPTE 368 kB = 92 pages; adj 800 -> 800 * 6171 = 4936800; points 41915 + 4936800 = 4978715
    // (1000 + 4978715000 / 6171021) * 2 / 3 = (1000 + 806) * 2 / 3 = 1204 (the kernel printed 1204)
    const a = oomTask({ pid: 16933, oomScoreAdj: 800, mm: { rssAnon: 40143, rssFile: 1680, pgtablesBytes: 368 * 1024 } });
    expect(oomScore618(oomBadness(a, 6_171_021).points, 6_171_021)).toBe(1204);
    // pid 16934: 1242436 kB = 310609 pages + VmPTE 2484 kB = 621 pages -> 311230;
    // (1000 + 311230000 / 6171021) * 2 / 3 = (1000 + 50) * 2 / 3 = 700 (the kernel printed 700)
    const b = oomTask({ pid: 16934, mm: { rssAnon: 308943, rssFile: 1666, pgtablesBytes: 2484 * 1024 } });
    expect(oomScore618(oomBadness(b, 6_171_021).points, 6_171_021)).toBe(700);
  });
});
