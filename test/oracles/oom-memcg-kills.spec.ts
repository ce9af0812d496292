// Real memcg OOM kills on Linux 6.18 (test/fixtures/oom/memcg-*.dmesg.txt, recorded by
// tools/oom/record-memcg-oom.ts): each kernel report is re-decided by the model from the
// report's own "Tasks state" dump; the victim and the kernel's log lines must come out the same.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../../packages/kernel/src/common/index.js';
import { decideOutOfMemory, oomReportToRequest, parseOomReports, points618, oomBadness } from '../../packages/kernel/src/oom/index.js';

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'test/fixtures/oom');
const files = readdirSync(dir).filter((f) => /^memcg-.*\.dmesg\.txt$/.test(f)).sort();

const decide = (text: string) => {
  const killed: number[] = [];
  return parseOomReports(text).map((r) => {
    // A victim of an earlier report still listed was skipped by the kernel (its mm reaped);
    // had it not been reaped, the kernel would have printed no report at all.
    const req = oomReportToRequest(r, { reapedVictims: killed.filter((p) => r.tasks.some((t) => t.tgid === p)) });
    killed.push(r.killedPid);
    const e = decideOutOfMemory(req, {
      profile: 'linux-6.18',
      modelVersion: MODEL_VERSION,
      policy: { panicOnOom: 0, oomKillAllocatingTask: 0 },
      killSeq: 0,
      victims: [],
      totalRamPages: 0,
      totalSwapPages: 0,
    });
    return { r, req, e };
  });
};

describe('memcg OOM kills of a real 6.18 kernel', () => {
  it('has the three recorded scenarios', () => expect(files).toEqual(['memcg-adj.dmesg.txt', 'memcg-file-shmem.dmesg.txt', 'memcg-tie.dmesg.txt']));

  for (const f of files) {
    it(`${f}: the model kills the kernel's victim and prints the kernel's lines`, () => {
      const runs = decide(readFileSync(join(dir, f), 'utf8'));
      expect(runs.length).toBeGreaterThan(0);
      for (const { r, e } of runs) {
        expect(e.type).toBe('OomKillDecided');
        if (e.type !== 'OomKillDecided') continue;
        expect(e.killed[0].pid).toBe(r.killedPid);
        expect(e.logLines).toContain(r.invokedLine);
        expect(e.logLines).toContain(r.summaryLine);
        expect(e.logLines).toContain(r.killedLines[0]);
      }
    });
  }

  it('memcg-tie: two tasks tie exactly and the kernel kills the later one, as the model does', () => {
    const [{ r, req, e }] = decide(readFileSync(join(dir, 'memcg-tie.dmesg.txt'), 'utf8'));
    const points = req.tasks.map((t) => oomBadness(t, req.totalPages).points);
    const max = Math.max(...points.map(Number));
    const tied = req.tasks.filter((_, i) => points[i] === max).map((t) => t.pid);
    expect(tied.length).toBe(2);
    expect(r.killedPid).toBe(tied[1]);
    expect(e.type === 'OomKillDecided' && [e.chosen, e.why.rule]).toEqual([tied[1], 'tie-later-wins']);
    // memcg totalpages is the limit: 307200 kB = 76800 pages
    expect(req.totalPages).toBe(76_800);
    expect(points618({ formula: 'linux-6.18', rssAnon: 25600, rssFile: 172, rssShmem: 0, swapEnts: 0, pgtables: 233472 / 4096, oomScoreAdj: 0, adjUnit: 76 })).toBe(max);
  });
});
