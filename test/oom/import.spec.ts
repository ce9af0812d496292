// Real machines in: `mmsim oom score --snapshot` (no server) prints the kernel's own oom_score
// for every process of a recorded /proc snapshot; `mmsim import --snapshot` builds a simulated
// machine mirroring it through the services, and the machine's oom_score per process (OomService
// Scores, `mmsim oom scores`) equals the real kernel's wherever the mirror is exact. The kernel's
// victim is the process the real kernel scored highest.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ref, run, startServer, type Server } from './support.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/oom/adj-mix.json', import.meta.url));
const SHARED = '/work/shared/oracles/oom/snapshot-a.json';

interface SnapProc {
  pid: number;
  name: string;
  kernel_thread: boolean;
  oom_score: number;
  oom_score_adj: number;
}
const procsOf = (path: string): SnapProc[] => (JSON.parse(readFileSync(path, 'utf8')) as { processes: SnapProc[] }).processes;

describe('mmsim oom score --snapshot (no server)', () => {
  it.each([[FIXTURE], ...(existsSync(SHARED) ? [[SHARED]] : [])])('prints "pid oom_score" for every process of %s, equal to what its kernel printed', async (file) => {
    const r = await run('oom', 'score', '--snapshot', file);
    expect(r.code, r.err).toBe(0);
    const expected = procsOf(file)
      .sort((a, b) => a.pid - b.pid)
      .map((p) => `${p.pid} ${p.oom_score}`);
    expect(r.out.trimEnd().split('\n')).toEqual(expected);
    const cmp = await run('oom', 'score', '--snapshot', file, '--compare');
    expect(cmp.out).toContain(`${expected.length} of ${expected.length} processes agree with the kernel's oom_score`);
  });

  it('refuses a missing or malformed snapshot with exit 2', async () => {
    expect((await run('oom', 'score')).code).toBe(2);
    expect((await run('oom', 'score', '--snapshot', '/nonexistent.json')).code).toBe(2);
    const bad = await run('oom', 'score', '--snapshot', fileURLToPath(import.meta.url));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('is not a /proc snapshot');
    expect((await run('oom', 'score', '--snapshot', FIXTURE, '--policy', 'linux-4')).code).toBe(2);
  });
});

describe('mmsim import --snapshot: a simulated machine mirroring a real one', () => {
  let srv: Server;
  let imported: {
    machine: string;
    memTotalKb: { snapshot: number; machine: number };
    processes: { pid: number; realPid: number; name: string; targetPoints: number; points: number; oomScore: number | null; kernelOomScore: number }[];
    exact: number;
    agree: number;
    victim: { machine: { pid: number; realPid: number } | null; snapshot: { kind: string; chosen: number }; policy: { profile: string; outcome: { kind: string; chosen: number } } | null };
  };

  beforeAll(async () => {
    srv = await startServer();
    // page tables past 64 pages a process are held as anonymous pages: the badness sum stays exact, the import quicker
    const r = await srv.mmsim('import', '--snapshot', FIXTURE, '--machine', 'real', '--policy', 'linux-2.6.18', '--max-regions', '64', '--json');
    if (r.code !== 0) throw new Error(r.err);
    imported = JSON.parse(r.out);
  });
  afterAll(async () => srv?.dispose());

  it('the machine has the snapshot\'s MemTotal and every user process', async () => {
    expect(imported.memTotalKb.machine).toBe(imported.memTotalKb.snapshot);
    const users = procsOf(FIXTURE).filter((p) => !p.kernel_thread && p.pid !== 1);
    expect(imported.processes.map((p) => p.realPid).sort((a, b) => a - b)).toEqual(users.map((p) => p.pid).sort((a, b) => a - b));
    const tasks = (await srv.client.vma.listTasks({ machine: ref('real'), all: false })).tasks;
    for (const p of imported.processes) {
      const real = users.find((u) => u.pid === p.realPid)!;
      const t = tasks.find((x) => x.pid === p.pid)!;
      expect({ pid: p.pid, adj: t.oomScoreAdj }).toEqual({ pid: p.pid, adj: real.oom_score_adj });
    }
  });

  it('mmsim oom scores on the imported machine: oom_score equals the real kernel\'s wherever the badness sum is mirrored exactly', async () => {
    const r = await srv.mmsim('oom', 'scores', '--machine', 'real', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as { pid: number; oomScore: number }[];
    const kernel = new Map(procsOf(FIXTURE).map((p) => [p.pid, p.oom_score]));
    const exact = imported.processes.filter((p) => p.points === p.targetPoints);
    expect(exact.length).toBeGreaterThan(imported.processes.length * 0.75);
    for (const p of exact) {
      const row = rows.find((x) => x.pid === p.pid)!;
      expect({ pid: p.realPid, name: p.name, oomScore: row.oomScore }).toEqual({ pid: p.realPid, name: p.name, oomScore: kernel.get(p.realPid) });
    }
    expect(imported.agree).toBe(exact.length);
  });

  it('says whom the kernel would kill now: the process the real kernel scored highest; and under linux-2.6.18', async () => {
    const users = procsOf(FIXTURE).filter((p) => !p.kernel_thread && p.pid !== 1);
    const top = users.reduce((a, b) => (b.oom_score > a.oom_score ? b : a));
    expect(imported.victim.snapshot).toMatchObject({ kind: 'kill', chosen: top.pid });
    expect(imported.victim.machine?.realPid).toBe(top.pid);
    expect(imported.victim.policy?.profile).toBe('linux-2.6.18');
    expect(imported.victim.policy?.outcome.kind).toBe('kill');
    // the text, on a smaller machine: the hold-memory processes only (their oom_score does not depend on the others)
    const snap = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { processes: SnapProc[] };
    const holders = snap.processes.filter((p) => p.name === 'hold-memory');
    const small = join(mkdtempSync(join(tmpdir(), 'mmsim-import-')), 'holders.json');
    writeFileSync(small, JSON.stringify({ ...snap, processes: holders }));
    const text = await srv.mmsim('import', '--snapshot', small, '--machine', 'holders');
    expect(text.code, text.err).toBe(0);
    const topHolder = holders.reduce((a, b) => (b.oom_score > a.oom_score ? b : a));
    expect(text.out).toContain(`The linux-6.18 OOM killer would kill now: real pid ${topHolder.pid} (hold-memory)`);
    expect(text.out).toMatch(new RegExp(`equals the real kernel's for (\\d+) of the \\1 processes whose badness sum is mirrored exactly \\(${holders.length} imported\\)`));
    rmSync(dirname(small), { recursive: true, force: true });
  });

  it('refuses wrong arguments with exit 2', async () => {
    for (const argv of [[], ['--snapshot', FIXTURE, '--from-proc'], ['--save', 'x.json', '--snapshot', FIXTURE], ['--snapshot', '/nonexistent.json'], ['--snapshot', FIXTURE, '--max-regions', '-1']]) {
      const r = await srv.mmsim('import', ...argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toMatch(/^mmsim import: /);
    }
  });
});
