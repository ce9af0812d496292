import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../../common/index.js';
import { decideOutOfMemory } from '../out-of-memory.js';
import { oomTask } from '../task-builder.js';
import { oomRequest } from '../testing.js';
import type { OomEvent } from '../types.js';
import { explainKill } from './explain.js';
import { formatExplainTable } from './format.js';
import { formatScoresTable, scoresTable } from './scores-table.js';

const ctx = (profile: 'linux-6.18' | 'linux-2.6.18') => ({
  profile,
  modelVersion: MODEL_VERSION,
  policy: { panicOnOom: 0 as const, oomKillAllocatingTask: 0 as const },
  killSeq: 0,
  victims: [],
  totalRamPages: 0,
  totalSwapPages: 0,
});
const twin = (pid: number) => oomTask({ pid, mm: { totalVm: 50, rssAnon: 50 } });

describe('explainKill / formatExplainTable', () => {
  it('prints the table with the winner marked, and says why a tie went to the later task (6.18)', () => {
    const e = decideOutOfMemory(oomRequest({ tasks: [twin(10), twin(11)], totalPages: 1000 }), ctx('linux-6.18'));
    const x = explainKill(e);
    expect(x.winner).toBe(11);
    const text = formatExplainTable(x);
    // Each: 50 pages, adj 0 -> 50 points; oom_score = (1000 + 50000 / 1000) * 2 / 3 = 700.
    expect(text).toContain(
      [
        'PID  NAME    ANON  FILE  SHMEM  SWAP  PGTBL  ADJ  ADJ*T/1000  POINTS  OOM_SCORE  VERDICT',
        ' 10  task10    50     0      0     0      0    0           0      50        700  lost tie',
        '*11  task11    50     0      0     0      0    0           0      50        700  VICTIM',
      ].join('\n'),
    );
    expect(x.ties).toBe(
      'pid 10 (task10), pid 11 (task11) tied at 50 points; linux-6.18 keeps the later task in the list (oom_evaluate_task() skips only "points < chosen_points"), so pid 11 (task11) won.',
    );
    expect(x.why).toContain('pid 11 (task11) had the highest badness of 2 candidates: rss 50 (anon 50, file 0, shmem 0) + swap 0 + page tables 0 = 50 pages.');
  });

  it('spells out the 2.6.18 arithmetic and the first-found tie rule', () => {
    const tasks = [
      oomTask({ pid: 10, uid: 0, nice: 5, mm: { totalVm: 400 } }), // 400 * 2 / 4 = 200
      oomTask({ pid: 11, oomAdj: 1, mm: { totalVm: 100 } }), // 100 << 1 = 200
    ];
    const x = explainKill(decideOutOfMemory(oomRequest({ tasks }), ctx('linux-2.6.18')));
    expect(x.winner).toBe(10);
    expect(x.why).toContain('total_vm 400 x 2 (niced) / 4 (root or CAP_SYS_ADMIN) = 200 points');
    expect(x.ties).toContain('keeps the first task found (select_bad_process() replaces only on "points > *ppoints"), so pid 10 (task10) won.');
    expect(x.rows.map((r) => [r.pid, r.inputs.nice, r.inputs.admin, r.inputs.oomAdj, r.points, r.verdict])).toEqual([
      [10, 'yes', 'yes', '0', '200', 'VICTIM'],
      [11, '-', '-', '1', '200', 'lost tie'],
    ]);
  });

  it('explains a kill that did not happen', () => {
    const tasks = [oomTask({ pid: 10, oomVictim: true, mm: { rssAnon: 5 } }), twin(11)];
    const x = explainKill(decideOutOfMemory(oomRequest({ tasks }), ctx('linux-6.18')));
    expect(x.winner).toBeNull();
    expect(x.why).toBe('No new kill: pid 10 (task10) was killed earlier and its memory is not reaped yet; the kernel waits for it instead of killing a second task.');
    expect(x.rows.map((r) => r.verdict)).toEqual(['BLOCKS: earlier victim still exiting', 'not reached']);
  });

  it('is plain JSON', () => {
    const e: OomEvent = decideOutOfMemory(oomRequest({ tasks: [twin(10)] }), ctx('linux-6.18'));
    const x = explainKill(e as Parameters<typeof explainKill>[0]);
    expect(JSON.parse(JSON.stringify(x))).toEqual(x);
  });
});

describe('scoresTable', () => {
  it('lists /proc/<pid>/oom_score per profile, highest first', () => {
    const tasks = [
      oomTask({ pid: 1, mm: { rssAnon: 10 } }),
      oomTask({ pid: 20, mm: { rssAnon: 100 } }),
      oomTask({ pid: 21, oomScoreAdj: 1000, mm: { rssAnon: 100 } }),
      oomTask({ pid: 22, tgid: 21, mm: { mmId: 21, rssAnon: 100 } }),
    ];
    const rows = scoresTable(tasks, 1_000_000, 'linux-6.18');
    // 666 for a small task; 1333 for adj 1000; 0 for init; the thread 22 is not a process row.
    expect(rows.map((r) => [r.pid, r.oomScore])).toEqual([[1, 0], [20, 666], [21, 1333]]);
    const text = formatScoresTable(rows);
    expect(text.split('\n')[1]).toMatch(/^ *21 +task21 .* 1333\s*$/);
    // 2.6.18 shows raw badness: total_vm = 100 pages, uid 1000; pid 21's adj 1000 reads as
    // oom_adj 15 (OOM_SCORE_ADJ_MAX -> OOM_ADJUST_MAX): 100 << 15 = 3276800.
    expect(scoresTable(tasks, 1_000_000, 'linux-2.6.18').map((r) => r.oomScore)).toEqual([10, 100, 3_276_800]);
  });
});
