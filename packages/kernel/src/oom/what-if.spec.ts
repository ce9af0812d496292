import { describe, expect, it } from 'vitest';
import { oomTask } from './task-builder.js';
import { oomRequest } from './testing.js';
import { parseWhatIfChange, whatIf, whatIfFromEvent } from './what-if.js';
import { decideOutOfMemory } from './out-of-memory.js';
import { MODEL_VERSION } from '../common/index.js';

const policy = { panicOnOom: 0 as const, oomKillAllocatingTask: 0 as const };

// The wrong victim: db 262144 + 1000 + 132 page-table pages = 263276 points; worker 60000 + 100 + 30 = 60130.
const db = oomTask({ pid: 500, name: 'postgres', uid: 999, mm: { totalVm: 300_000, rssAnon: 262_144, rssFile: 1000, pgtablesBytes: 540_672 } });
const worker = oomTask({ pid: 600, name: 'worker', mm: { totalVm: 70_000, rssAnon: 60_000, rssFile: 100, pgtablesBytes: 122_880 } });
const request = oomRequest({ tasks: [db, worker], current: 600, totalPages: 1_000_000 });

describe('whatIf', () => {
  it('oom_score_adj -500 on the database makes the leaking worker die instead', () => {
    // db: 263276 - 500 * (1000000 / 1000) = -236724 < worker 60130
    const r = whatIf({ request, profile: 'linux-6.18', policy }, [parseWhatIfChange('adj 500=-500')]);
    expect([r.before.chosen, r.after.chosen, r.same]).toEqual([500, 600, false]);
    expect(r.after.chosenPoints).toBe(60_130);
    expect(r.sentence).toMatch(/^With oom_score_adj -500 on pid 500, linux-6.18 would kill pid 600 \(worker\) instead of pid 500 \(postgres\): worker scores 60130 against postgres's -236724\./);
  });

  it('under linux-2.6.18 the tie of two equal tasks goes the other way', () => {
    const twins = oomRequest({ tasks: [oomTask({ pid: 10, mm: { rssAnon: 50 } }), oomTask({ pid: 11, mm: { rssAnon: 50 } })], totalPages: 1000 });
    const r = whatIf({ request: twins, profile: 'linux-6.18', policy }, [{ kind: 'profile', profile: 'linux-2.6.18' }]);
    expect([r.before.chosen, r.after.chosen]).toEqual([11, 10]);
  });

  it('panic_on_oom=1 turns the kill into a panic', () => {
    const r = whatIf({ request, profile: 'linux-6.18', policy }, [parseWhatIfChange('panic_on_oom=1')]);
    expect(r.after.kind).toBe('panic');
    expect(r.sentence).toContain('panic_on_oom=1');
  });

  it('oom_kill_allocating_task=1 kills the worker that faulted', () => {
    const r = whatIf({ request, profile: 'linux-6.18', policy }, [parseWhatIfChange('vm.oom_kill_allocating_task=1')]);
    expect(r.after.chosen).toBe(600);
  });

  it('memory.max changes totalpages, and with it what an oom_score_adj is worth', () => {
    // a: 800 pages adj 0; b: 300 pages adj 500. memory.max 2048: unit 2 -> b = 300 + 1000 = 1300 > 800: b dies.
    // memory.max 999: unit 0 -> b = 300 < 800: a dies.
    const memcgs = [{ id: 7, parent: 0, oomGroup: false, path: '/svc', memoryMaxPages: 2048, swapMaxPages: 0 }];
    const tasks = [oomTask({ pid: 70, name: 'a', memcg: 7, mm: { rssAnon: 800 } }), oomTask({ pid: 71, name: 'b', memcg: 7, oomScoreAdj: 500, mm: { rssAnon: 300 } })];
    const req = oomRequest({ tasks, memcg: 7, memcgs, totalPages: 2048 });
    const r = whatIf({ request: req, profile: 'linux-6.18', policy, totalSwapPages: 0 }, [parseWhatIfChange('memcg /svc memory.max=999')]);
    expect([r.before.chosen, r.after.chosen]).toEqual([71, 70]);
    expect(r.after.event?.totalPages).toBe(999);
    const g = whatIf({ request: req, profile: 'linux-6.18', policy }, [parseWhatIfChange('memcg 7 memory.oom.group=1')]);
    expect([g.before.killed, g.after.killed]).toEqual([[71], [71, 70]]);
    expect(whatIf({ request: req, profile: 'linux-6.18', policy }, [parseWhatIfChange('memcg 7 memory.max=max')]).after.kind).toBe('no-oom');
    // 2.6.18 had no memory cgroups at all.
    expect(whatIf({ request: req, profile: 'linux-6.18', policy }, [parseWhatIfChange('profile=linux-2.6.18')]).after.kind).toBe('rejected');
  });

  it('works from a decision event of the log', () => {
    const e = decideOutOfMemory(request, { profile: 'linux-6.18', modelVersion: MODEL_VERSION, policy, killSeq: 3, victims: [], totalRamPages: 0, totalSwapPages: 0 });
    expect(whatIfFromEvent(e, [{ kind: 'adj', pid: 500, oomScoreAdj: -1000 }]).after.chosen).toBe(600);
  });

  it('parses the command-line spellings and refuses the rest', () => {
    expect(parseWhatIfChange('oom_adj 12=-17')).toEqual({ kind: 'oom-adj', pid: 12, oomAdj: -17 });
    expect(parseWhatIfChange('memcg 3 memory.swap.max=max')).toEqual({ kind: 'memcg', memcg: 3, swapMaxPages: -1 });
    expect(() => parseWhatIfChange('adj pid=1')).toThrow(/cannot read/);
    expect(() => parseWhatIfChange('profile=linux-3.0')).toThrow();
  });
});
