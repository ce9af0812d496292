// The model's /proc/<pid>/oom_score against the real kernel's, for every process of every
// recorded snapshot: test/fixtures/oom/*.json (recorded here by tools/oom/record-fixtures.ts on
// Linux 6.18) and, when the shared oracles are present, /work/shared/oracles/oom/snapshot-a.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSnapshot, scoreSnapshot, snapshotToMachine, type ProcSnapshot } from '../../packages/kernel/src/oom/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(repo, 'test/fixtures/oom');
const shared = resolve(repo, '../shared/oracles/oom/snapshot-a.json');

const load = (file: string): ProcSnapshot => parseSnapshot(JSON.parse(readFileSync(file, 'utf8')));

function checkAll(file: string): void {
  const snap = load(file);
  const scores = scoreSnapshot(snap);
  expect(scores.length).toBe(snap.processes.length);
  const wrong = scores.filter((s) => !s.match).map((s) => `pid ${s.pid} (${s.name}): kernel ${s.kernelOomScore}, model ${s.oomScore}`);
  expect(wrong).toEqual([]);
}

describe('oom_score of recorded 6.18 snapshots (test/fixtures/oom)', () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.json')).sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThanOrEqual(2));
  for (const f of files) {
    it(`${f}: every process's oom_score equals the kernel's`, () => checkAll(join(fixtures, f)));
  }

  it('the fixtures hold the test processes with the chosen adj values, ties included', () => {
    const snap = load(join(fixtures, 'ties-and-sizes.json'));
    const held = snap.processes.filter((p) => p.name === 'hold-memory');
    // four identical 64 MiB holders: one oom_score, the later pid would be 6.18's victim among them
    const ties = held.filter((p) => p.oom_score_adj === 0 && (p.RssAnon_kB ?? 0) > 60_000 && (p.RssAnon_kB ?? 0) < 70_000);
    expect(ties.length).toBe(4);
    expect(new Set(ties.map((p) => p.oom_score)).size).toBe(1);
    const mix = load(join(fixtures, 'adj-mix.json')).processes.filter((p) => p.name === 'hold-memory');
    expect(new Set(mix.map((p) => p.oom_score_adj))).toEqual(new Set([0, 1, 250, 300, 500, 999, 1000]));
    expect(mix.some((p) => (p.RssShmem_kB ?? 0) >= 120 * 1024)).toBe(true);
    expect(mix.some((p) => (p.RssFile_kB ?? 0) >= 150 * 1024)).toBe(true);
  });

  it('snapshotToMachine mirrors RAM, swap, sysctls and each process', () => {
    const snap = load(join(fixtures, 'adj-mix.json'));
    const m = snapshotToMachine(snap);
    expect(m.ramBytes).toBe(snap.meminfo_kB.MemTotal * 1024);
    expect(m.profile).toBe('linux-6.18');
    expect(m.sysctl.overcommit_memory).toBe(snap.vm.overcommit_memory);
    const p = snap.processes.find((x) => x.name === 'hold-memory' && x.oom_score_adj === 1000);
    const q = m.processes.find((x) => x.pid === p?.pid);
    expect(q).toMatchObject({ rssShmemPages: (p?.RssShmem_kB ?? 0) / 4, pgtablesBytes: (p?.VmPTE_kB ?? 0) * 1024, oomScoreAdj: 1000, kernelOomScore: p?.oom_score });
  });
});

describe.skipIf(!existsSync(shared))('oom_score of the shared snapshot-a.json (6.18, 24 GiB, no swap)', () => {
  it('every process matches the kernel', () => checkAll(shared));
});
