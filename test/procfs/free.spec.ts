// The real `free` (procps-ng) reading a simulated /proc/meminfo. Each case renders the file
// for a machine in a known state, bind-mounts it over /proc/meminfo in a private mount
// namespace (unshare -m; we run as root), runs free with several options, and checks every
// figure it prints against what procps's rules give for the figures we set up, worked out by
// hand here (library/meminfo.c of procps-ng 4.0.x: used = MemTotal - MemAvailable, a missing
// MemAvailable is taken as MemFree; buff/cache = Buffers + Cached + SReclaimable; shared =
// Shmem; Low = LowTotal/LowFree, or MemTotal/MemFree when absent).
// Skips (with the reason) where unshare/mount are not permitted or free is missing, except
// under CI=true, where that fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KernelProfile } from '../../packages/kernel/src/common/index.js';
import { bootFrames, handleFrames, type FramesState } from '../../packages/kernel/src/frames/index.js';
import { machine, GiB, MiB } from '../../packages/kernel/src/frames/spec-machines.js';
import { meminfoInput, renderMeminfo } from '../../packages/kernel/src/procfs/index.js';

function probe(): { ok: boolean; why: string; version: string } {
  const v = spawnSync('free', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return { ok: false, why: 'free (procps-ng) is not installed', version: '' };
  const m = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind /proc/version /proc/meminfo && head -c 5 /proc/meminfo'], { encoding: 'utf8' });
  if (m.status !== 0 || !m.stdout.startsWith('Linux')) return { ok: false, why: `unshare -m / mount --bind not permitted: ${(m.stderr || String(m.error)).trim()}`, version: v.stdout.trim() };
  return { ok: true, why: '', version: v.stdout.trim() };
}

const env = probe();
if (!env.ok) {
  if (process.env.CI === 'true') throw new Error(`free.spec cannot run under CI: ${env.why}`);
  console.warn(`free.spec skipped: ${env.why}`);
}

const dir = mkdtempSync(join(tmpdir(), 'mmsim-free-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VARIANTS = [[], ['-b'], ['-k'], ['-w'], ['-l'], ['-t'], ['-v']] as const;

/** Runs each free variant with `meminfo` mounted over /proc/meminfo; returns each one's stdout. */
function runFree(meminfo: string, name: string): string[] {
  const file = join(dir, `${name}.meminfo`);
  writeFileSync(file, meminfo);
  const script = [`mount --bind '${file}' /proc/meminfo`, ...VARIANTS.map((v) => `free ${v.join(' ')}; echo @@`)].join(' && ');
  const out = execFileSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return out.split('@@\n').slice(0, VARIANTS.length);
}

/** The numbers on a free output line ("Mem:", "Swap:", ...). */
function row(out: string, label: string): number[] {
  const line = out.split('\n').find((l) => l.startsWith(label));
  if (line === undefined) throw new Error(`no ${label} line in:\n${out}`);
  return line.slice(label.length).trim().split(/\s+/).map(Number);
}

/**
 * A 1 GiB machine with 256 MiB of swap, in a state whose figures are known by hand:
 *  - memcg 5 limited to 10 pages gets 12 anon pages: the 11th charge reclaims the memcg's 10
 *    pages to swap (slots 1..10); then slot 1 is faulted back in (read: it stays in the swap cache);
 *  - 10000 anon pages, 3000 file pages, 500 shmem pages, 200 block-device pages;
 *  - kernel: 300 pages of reclaimable slab, 100 unreclaimable, 50 of page tables.
 */
function knownMachine(profile: KernelProfile): FramesState {
  const s = bootFrames(machine(GiB, 256 * MiB, profile));
  const run = (c: Parameters<typeof handleFrames>[1]): void => void handleFrames(s, c);
  run({ type: 'SetMemcgLimit', memcg: 5, maxPages: 10, parent: 0 });
  run({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 12 }], memcg: 5, allowReclaim: true });
  run({ type: 'SwapIn', slot: 1, page: { kind: 'anon', owner: 1, index: 0 }, memcg: 5 });
  run({ type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 2, index: 0, count: 10000 }], memcg: 0, allowReclaim: true });
  run({ type: 'AllocUserPages', runs: [{ kind: 'file', owner: 7, index: 0, count: 3000 }], memcg: 0, allowReclaim: true });
  run({ type: 'AllocUserPages', runs: [{ kind: 'shmem', owner: 8, index: 0, count: 500 }], memcg: 0, allowReclaim: true });
  for (let i = 0; i < 200; i++) run({ type: 'GetFilePage', file: 9, index: i, memcg: 0, kind: 'bdev' });
  run({ type: 'AddKernelPages', kind: 'slab_reclaimable', pages: 300 });
  run({ type: 'AddKernelPages', kind: 'slab_unreclaimable', pages: 100 });
  run({ type: 'AddKernelPages', kind: 'pagetable', pages: 50 });
  return s;
}

// The figures of knownMachine, in kB, by hand.
const MEM_TOTAL = 245504 * 4; // layout: DMA 3840 + DMA32 241664 managed pages
const IN_USE = 2 + 1 + 10000 + 3000 + 500 + 200 + 300 + 100 + 50; // pages allocated
const MEM_FREE = (245504 - IN_USE) * 4;
const BUFFERS = 200 * 4;
const CACHED = (3000 + 500 + 200 + 1 - 1 - 200) * 4; // NR_FILE_PAGES - SwapCached - Buffers
const SRECLAIMABLE = 300 * 4;
const SHMEM = 500 * 4;
// si_mem_available: totalreserve 2425 and low watermarks 18 + 1217 + 0 + 32 + 0 = 1267 (1 GiB, 6.18 rules);
// file LRU 3200 pages keeps min(1600, 1267); slab 300 keeps min(150, 1267).
const AVAILABLE_618 = (245504 - IN_USE - 2425 + (3200 - 1267) + (300 - 150)) * 4;
const SWAP_TOTAL = (65536 - 1) * 4; // the header page is not swap
const SWAP_USED = 10 * 4; // slots 1..10: slot 1 is held by the swap cache after the swap-in
const COMMITTED = 5000 * 4;
const COMMIT_LIMIT = (Math.floor((245504 * 50) / 100) + 65535) * 4;

describe.skipIf(!env.ok)(`free (${env.version}) reads the simulated /proc/meminfo`, () => {
  it('linux-6.18 layout: free, -b, -k, -w, -l, -t, -v', () => {
    const s = knownMachine('linux-6.18');
    const text = renderMeminfo(meminfoInput(s, { committedAsPages: 5000 }), 'linux-6.18');
    expect(text).toContain(`MemAvailable:   ${String(AVAILABLE_618).padStart(8)} kB\n`);
    const [plain, b, k, w, l, t, v] = runFree(text, 'linux-6.18');
    const used = MEM_TOTAL - AVAILABLE_618;
    const mem = [MEM_TOTAL, used, MEM_FREE, SHMEM, BUFFERS + CACHED + SRECLAIMABLE, AVAILABLE_618];
    const swap = [SWAP_TOTAL, SWAP_USED, SWAP_TOTAL - SWAP_USED];
    expect(row(plain, 'Mem:')).toEqual(mem);
    expect(row(plain, 'Swap:')).toEqual(swap);
    expect(row(k, 'Mem:')).toEqual(mem);
    expect(row(b, 'Mem:')).toEqual(mem.map((x) => x * 1024));
    expect(row(b, 'Swap:')).toEqual(swap.map((x) => x * 1024));
    expect(row(w, 'Mem:')).toEqual([MEM_TOTAL, used, MEM_FREE, SHMEM, BUFFERS, CACHED + SRECLAIMABLE, AVAILABLE_618]);
    // No HighTotal/LowTotal on x86-64 6.18: Low is all of memory, High is 0.
    expect(row(l, 'Low:')).toEqual([MEM_TOTAL, MEM_TOTAL - MEM_FREE, MEM_FREE]);
    expect(row(l, 'High:')).toEqual([0, 0, 0]);
    expect(row(t, 'Total:')).toEqual([MEM_TOTAL + SWAP_TOTAL, used + SWAP_USED, MEM_FREE + SWAP_TOTAL - SWAP_USED]);
    expect(row(v, 'Comm:')).toEqual([COMMIT_LIMIT, COMMITTED, COMMIT_LIMIT - COMMITTED]);
  });

  it('linux-2.6.18 layout: no MemAvailable (free uses MemFree), no Shmem, no SReclaimable', () => {
    const s = knownMachine('linux-2.6.18');
    const text = renderMeminfo(meminfoInput(s, { committedAsPages: 5000 }), 'linux-2.6.18');
    expect(text).not.toContain('MemAvailable');
    const [plain, b, , w, l, t, v] = runFree(text, 'linux-2.6.18');
    const used = MEM_TOTAL - MEM_FREE;
    const mem = [MEM_TOTAL, used, MEM_FREE, 0, BUFFERS + CACHED, MEM_FREE];
    expect(row(plain, 'Mem:')).toEqual(mem);
    expect(row(plain, 'Swap:')).toEqual([SWAP_TOTAL, SWAP_USED, SWAP_TOTAL - SWAP_USED]);
    expect(row(b, 'Mem:')).toEqual(mem.map((x) => x * 1024));
    expect(row(w, 'Mem:')).toEqual([MEM_TOTAL, used, MEM_FREE, 0, BUFFERS, CACHED, MEM_FREE]);
    // 2.6.18 prints LowTotal/LowFree (all RAM on x86-64) and HighTotal/HighFree 0.
    expect(row(l, 'Low:')).toEqual([MEM_TOTAL, MEM_TOTAL - MEM_FREE, MEM_FREE]);
    expect(row(l, 'High:')).toEqual([0, 0, 0]);
    expect(row(t, 'Total:')).toEqual([MEM_TOTAL + SWAP_TOTAL, used + SWAP_USED, MEM_FREE + SWAP_TOTAL - SWAP_USED]);
    expect(row(v, 'Comm:')).toEqual([COMMIT_LIMIT, COMMITTED, COMMIT_LIMIT - COMMITTED]);
  });
});
