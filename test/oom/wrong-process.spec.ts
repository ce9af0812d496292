// The "wrong process" story through the services and the log: a big, well-behaved database
// (oom_score_adj 0) beside a small leaking worker, linux-6.18. The worker's leak runs the machine
// out of memory, and the OOM killer kills the database, because badness is size, not blame.
// `mmsim oom explain` says why; `mmsim oom whatif` with oom_score_adj -500 on the database shows
// the worker dying instead; --continue replays the rest of the recorded workload and reports the
// difference. Expectations come from the badness formula computed here by hand from the inputs
// the explanation shows and from ps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, main } from '@mmsim/cli';
import { runScenario, type Scenario } from '@mmsim/sdk';
import type { OomExplanation } from '@mmsim/kernel/oom';
import { cdiv, oomScore618, ps, ref, replayClean, run, startServer, type Server } from './support.js';

const M = 'story';
const scenario: Scenario = {
  machine: { name: M, ramBytes: '128M', profile: 'linux-6.18', seed: 7 },
  steps: [
    { spawn: { as: 'sshd', name: 'sshd', uid: 0, oomScoreAdj: -1000 } },
    { malloc: { pid: '$sshd', size: '2M', write: true } },
    { spawn: { as: 'db', name: 'postgres', uid: 999 } },
    { repeat: { times: 44, steps: [{ malloc: { pid: '$db', size: '1M', write: true } }] } },
    { spawn: { as: 'worker', name: 'worker', uid: 1000 } },
    // the leak: a fixed number of 1 MiB blocks, more than fits beside the database
    { repeat: { times: 56, steps: [{ malloc: { pid: '$worker', size: '1M', write: true } }] } },
  ],
};

interface Row {
  pid: number;
  name: string;
  inputs: Record<string, string>;
  points: string;
  oomScore: number;
  verdict: string;
}

describe('the wrong process: a leaking worker gets the database killed (linux-6.18)', () => {
  let srv: Server;
  let db: number;
  let worker: number;
  let killSeq: number;
  let nullReturns: number;

  beforeAll(async () => {
    srv = await startServer();
    const r = await runScenario(srv.client, scenario);
    nullReturns = r.nullReturns;
    db = r.vars.db;
    worker = r.vars.worker;
    const kills = await srv.client.oom.listKills({ machine: ref(M) });
    killSeq = Number(kills.kills[0].seq);
  });
  afterAll(async () => srv?.dispose());

  it('the OOM killer killed the database, once; the worker lived on and leaked the rest', async () => {
    const kills = (await srv.client.oom.listKills({ machine: ref(M) })).kills;
    expect(kills.map((k) => [k.verdict, k.victim, k.victimName])).toEqual([['kill', db, 'postgres']]);
    expect(nullReturns).toBe(0); // no malloc failed (the writes' 0 is not a NULL)
    const after = await ps(srv.client, ref(M));
    expect(after.find((t) => t.pid === db)).toBeUndefined();
    const w = after.find((t) => t.pid === worker)!;
    expect(Number(w.rssAnonKb)).toBeGreaterThan(55 * 1024); // all 56 MiB written after the kill
    const out = await srv.mmsim('oom', 'kills', '--machine', M);
    expect(out.code).toBe(0);
    expect(out.out).toMatch(new RegExp(`^\\s*${killSeq}\\s.*kill\\s+linux-6.18\\s+global\\s+${db} \\(postgres\\)`, 'm'));
  });

  it('oom explain: every candidate with the inputs of the formula, points and oom_score by hand, the database the highest', async () => {
    const r = await srv.mmsim('oom', 'explain', String(killSeq), '--machine', M, '--json');
    expect(r.code, r.err).toBe(0);
    const x = JSON.parse(r.out) as OomExplanation & { rows: Row[]; hiddenKernelThreads: number };
    const totalPages = Number(/totalpages (\d+)/.exec(x.headline)![1]);
    const unit = cdiv(totalPages, 1000);
    const scored = x.rows.filter((row) => row.inputs.anon !== undefined && !row.verdict.startsWith('skipped'));
    for (const row of scored) {
      const i = row.inputs;
      // mm/oom_kill.c oom_badness(): rss + swap + page tables, plus oom_score_adj * totalpages / 1000
      const points = +i.anon + +i.file + +i.shmem + +i.swap + +i.pgtables + +i.adj * unit;
      expect({ pid: row.pid, points: Number(row.points) }).toEqual({ pid: row.pid, points });
      expect({ pid: row.pid, score: row.oomScore }).toEqual({ pid: row.pid, score: oomScore618(points, totalPages) });
    }
    expect(scored.map((s) => s.pid).sort()).toEqual([db, worker].sort());
    const best = scored.reduce((a, b) => (Number(b.points) >= Number(a.points) ? b : a));
    expect(best.pid).toBe(db);
    expect(x.rows.find((row) => row.pid === db)!.verdict).toBe('VICTIM');
    expect(x.rows.find((row) => row.pid === worker)!.verdict).toBe('outscored');
    expect(x.rows.find((row) => row.name === 'sshd')!.verdict).toBe('skipped: oom_score_adj -1000');
    expect(x.hiddenKernelThreads).toBeGreaterThan(0);
    expect(x.rows.some((row) => row.verdict === 'skipped: kernel thread')).toBe(false);
    expect(x.why).toContain(`pid ${db} (postgres) had the highest badness of 2 candidates`);

    const text = await srv.mmsim('oom', 'explain', '--machine', M);
    expect(text.out).toMatch(new RegExp(`^\\s*\\*${db}\\s+postgres\\s.*VICTIM$`, 'm'));
    expect(text.out).toMatch(/\(\d+ kernel threads and tasks without an mm not shown/);
    const all = await srv.mmsim('oom', 'explain', '--machine', M, '--all');
    expect(all.out).toMatch(/skipped: kernel thread/);
    expect(all.out.split('\n').length).toBe(text.out.split('\n').length - 1 + x.hiddenKernelThreads);
  });

  it('oom scores: oom_score of every live process, equal to /proc/<pid>/oom_score and to the formula over ps', async () => {
    const r = await srv.mmsim('oom', 'scores', '--machine', M, '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as { pid: number; oomScore: number; points: number; skipReason: string }[];
    const tasks = await ps(srv.client, ref(M));
    const mi = (await srv.client.readProc(ref(M), '/proc/meminfo')).text;
    const totalPages = Number(/MemTotal:\s+(\d+)/.exec(mi)![1]) / 4 + Number(/SwapTotal:\s+(\d+)/.exec(mi)![1]) / 4;
    expect(rows.map((x) => x.pid).sort()).toEqual(tasks.map((t) => t.pid).sort());
    for (const t of tasks) {
      const row = rows.find((x) => x.pid === t.pid)!;
      const proc = Number((await srv.client.readProc(ref(M), `/proc/${t.pid}/oom_score`)).text.trim());
      expect({ pid: t.pid, score: row.oomScore }).toEqual({ pid: t.pid, score: proc });
      if (t.pid === 1 || t.oomScoreAdj === -1000) continue;
      const points = (Number(t.rssAnonKb) + Number(t.rssFileKb) + Number(t.rssShmemKb) + Number(t.vmSwapKb) + Number(t.vmPteKb)) / 4 + t.oomScoreAdj * cdiv(totalPages, 1000);
      expect({ pid: t.pid, score: row.oomScore }).toEqual({ pid: t.pid, score: oomScore618(points, totalPages) });
    }
  });

  it('oom whatif --adj DB=-500: the worker would have died instead, and why', async () => {
    const r = await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--adj', `${db}=-500`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`With oom_score_adj -500 on pid ${db}, linux-6.18 would kill pid ${worker} (worker) instead of pid ${db} (postgres)`);
    expect(r.out).toMatch(new RegExp(`^\\s*\\*${worker}\\s+worker\\s.*VICTIM$`, 'm'));
    const j = JSON.parse((await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--adj', `${db}=-500`, '--json')).out);
    expect(j.decision.before.killed).toEqual([db]);
    expect(j.decision.after.killed).toEqual([worker]);
    // by hand: the database's points fall by 500 * (totalpages / 1000)
    const dbRow = j.decision.after.event.candidates.find((c: { pid: number }) => c.pid === db);
    const before = j.decision.before.event.candidates.find((c: { pid: number }) => c.pid === db);
    expect(dbRow.points).toBe(before.points - 500 * cdiv(j.decision.before.event.totalPages, 1000));
  });

  it('oom whatif --continue: the rest of the workload replayed; the worker dies instead, its later leak never runs, the database survives', async () => {
    const r = await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--adj', `${db}=-500`, '--continue', '--json');
    expect(r.code, r.err).toBe(0);
    const c = JSON.parse(r.out).continued;
    expect(c.reproduced).toBe(true);
    expect(c.rebuilt).toBe(true);
    expect(c.before.kills.map((k: { victims: { pid: number }[] }) => k.victims.map((v) => v.pid))).toEqual([[db]]);
    expect(c.after.kills.map((k: { victims: { pid: number }[] }) => k.victims.map((v) => v.pid))).toEqual([[worker]]);
    const alive = (s: { alive: { pid: number }[] }) => s.alive.map((p) => p.pid);
    expect(alive(c.before)).toContain(worker);
    expect(alive(c.before)).not.toContain(db);
    expect(alive(c.after)).toContain(db);
    expect(alive(c.after)).not.toContain(worker);
    // the worker's remaining mallocs (and their writes) cannot run once it is dead
    expect(c.after.skipped.length).toBeGreaterThan(c.before.skipped.length);
    expect(c.after.skipped.filter((s: { what: string }) => !/by pid \d+: process \d+ \(worker\) is gone/.test(s.what))).toEqual([]);
    expect(c.decisionAfter.headline).toContain(`killed pid ${worker}`);
    const text = await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--adj', `${db}=-500`, '--continue');
    expect(text.out).toContain("The run without the change ends in the log's own state hashes");
    expect(text.out).toContain(`alive only with the change: ${db} (postgres`);
    expect(text.out).toMatch(/MemFree:\s+\d+\s+\d+\s+[+-]\d+/);
    // deterministic: the same answer twice, and the same from the log file with no server
    const again = await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--adj', `${db}=-500`, '--continue', '--json');
    expect(again.out).toBe(r.out);
    const offline = await run('oom', 'whatif', String(killSeq), '--log', srv.logFile(M), '--adj', `${db}=-500`, '--continue', '--json');
    expect(JSON.parse(offline.out).continued).toEqual(c);
    // on a terminal, the re-runs say how far they are; the answer is the same
    const io = { ...bufferIo(), isTty: true };
    let err = '';
    const tty = { ...io, err: (t: string) => void (err += t) };
    expect(await main(['oom', 'whatif', String(killSeq), '--log', srv.logFile(M), '--adj', `${db}=-500`, '--continue', '--json'], tty)).toBe(0);
    expect(JSON.parse(io.stdout()).continued).toEqual(c);
    expect(err).toMatch(new RegExp(`re-running the workload unchanged: step ${c.steps} of ${c.steps}`));
    expect(err).toMatch(new RegExp(`re-running the workload changed: step ${c.steps} of ${c.steps}\n$`));
    // and the WhatIf RPC runs the same in the server, from its own log
    const rpc = await srv.client.oom.whatIf({ machine: ref(M), seq: BigInt(killSeq), policy: '', adj: [`${db}=-500`], sysctl: [], cgroup: [], continue: true });
    expect(JSON.parse(rpc.json).continued).toEqual(c);
    expect(rpc.text).toContain('alive only with the change');
  });

  it('whatif --sysctl vm.overcommit_memory=2 --continue --from-start: mallocs fail with NULL (ENOMEM) before any OOM, nobody is killed', async () => {
    const r = await srv.mmsim('oom', 'whatif', String(killSeq), '--machine', M, '--sysctl', 'vm.overcommit_memory=2', '--continue', '--from-start', '--json');
    expect(r.code, r.err).toBe(0);
    const c = JSON.parse(r.out).continued;
    expect(c.from.boot).toBe(true);
    expect(c.reproduced).toBe(true);
    expect(c.before.kills).toHaveLength(1);
    expect(c.before.failures).toEqual([]);
    expect(c.after.kills).toEqual([]);
    expect(c.decisionAfter).toBeNull();
    expect(c.after.failures.length).toBeGreaterThan(0);
    expect(c.after.failures.every((f: { what: string }) => /^malloc\(1048576\) by pid \d+ returned NULL$/.test(f.what))).toBe(true);
    // a program checks malloc's result: the writes into the blocks it did not get are skipped
    expect(c.after.skipped.length).toBe(c.after.failures.length);
    const alive = (s: { alive: { pid: number }[] }) => s.alive.map((p) => p.pid);
    expect(alive(c.after)).toEqual(expect.arrayContaining([db, worker]));
    const m = (text: string, k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)![1]);
    // mode 2 keeps Committed_AS under CommitLimit
    expect(m(c.after.meminfo, 'Committed_AS')).toBeLessThanOrEqual(m(c.after.meminfo, 'CommitLimit'));
    const bad = await srv.mmsim('oom', 'whatif', '--machine', M, '--sysctl', 'vm.overcommit_memory=2', '--from-start');
    expect(bad.code).toBe(2);
  });

  it('whatif says when a change only shows with --continue (overcommit), and refuses bad changes with exit 2', async () => {
    const r = await srv.mmsim('oom', 'whatif', '--machine', M, '--sysctl', 'vm.overcommit_memory=2');
    expect(r.code).toBe(0);
    expect(r.out).toContain('the recorded decision does not change');
    expect(r.out).toContain('vm.overcommit_memory=2 changes which allocations succeed');
    expect(r.out).toContain('Add --continue');
    for (const argv of [['--adj', 'x'], ['--sysctl', 'vm.nope=1'], ['--cgroup', 'tenants:memory.max=1'], ['--policy', 'linux-5'], []]) {
      const bad = await srv.mmsim('oom', 'whatif', '--machine', M, ...argv);
      expect({ argv, code: bad.code }).toEqual({ argv, code: 2 });
      expect(bad.err).toMatch(/^mmsim oom whatif: /);
    }
    const unknown = await srv.mmsim('oom', 'whatif', '12345678', '--machine', M, '--adj', `${db}=0`);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(`no OOM decision at seq 12345678 on machine ${M} (decisions at: ${killSeq})`);
    const nomachine = await srv.mmsim('oom', 'explain', '--machine', 'nope');
    expect(nomachine.code).toBe(1);
    expect(nomachine.err).toContain('no machine nope');
  });

  it('the log replays: every state hash and the OOM decision reproduce (replayRegistry and mmsim replay)', async () => {
    const report = await replayClean(srv.logFile(M));
    expect(report.divergence).toBeUndefined();
    expect(report.lastSeq).toBeGreaterThan(killSeq);
    const r = await run('replay', srv.logFile(M));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('every state hash and every recorded decision reproduced');
  });
});
