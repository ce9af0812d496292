// `mmsim import`: a simulated machine that mirrors a real one, built through the services
// from a /proc snapshot (a file, or this machine's /proc read now), and who its OOM killer
// would kill now, and under another kernel's policy.
//
// The mirror: RAM sized so that MemTotal (totalram pages) is the real one, the same swap and
// sysctls; each user process spawned in start-time order (the task list keeps creation order)
// with its name, uid, euid, nice, oom_score_adj and capabilities, its threads and CPU time, the
// clock advanced to its start time; then its memory: shared anonymous memory written (RssShmem),
// a shared file mapped and read (RssFile), anonymous memory written over as many 2 MiB regions
// as its page tables need (MADV_DONTNEED drops the pages and keeps the tables), its address space
// padded to VmSize with PROT_NONE; at the end init read(2)s a file so that Cached is the real
// one. Where a figure cannot be reached (a spawned program's own pages already exceed it; swap,
// which only memory pressure fills), the badness sum RSS + swap + page tables is kept exact by
// counting the difference as anonymous pages. Kernel memory (slab...) is not mirrored.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { execFileSync } from 'node:child_process';
import type { KernelProfile } from '@mmsim/kernel';
import { computeLayout } from '@mmsim/kernel/frames';
import { oomRequest, parseSnapshot, snapshotToMachine, snapshotToOomTasks, whatIf, type MirroredMachine, type MirroredProcess, type ProcSnapshot, type WhatIfOutcome } from '@mmsim/kernel/oom';
import type { MachineRef, TaskInfo } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { UsageError } from '../args.js';
import { clientCommand } from '../client-command.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';
import { profileOption, readSnapshot } from './oom.js';
import { meminfoFields } from '../meminfo-text.js';

const PAGE = 4096;
const REGION_PAGES = 512; // one page-table page maps 2 MiB
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MADV_DONTNEED = 4;
const MIRROR_FILE = '/var/lib/mmsim-import/file-pages';
const CACHE_FILE = '/var/lib/mmsim-import/page-cache';
const MAX_RAM = 256 * 2 ** 30;
const MIN_RAM = 128 * 2 ** 20;

// ---------------------------------------------------------------------------------------------
// This machine's /proc, in capture-proc.py's format (our own reading of it).

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function statusOf(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** One process, read so that its memory figures and its oom_score belong together (read again if they moved). */
function procRecord(pid: number): Record<string, unknown> | null {
  const keys = ['VmSize', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'VmSwap', 'VmPTE'];
  const kb = (s: Map<string, string>, k: string): number | null => (s.has(k) ? parseInt(s.get(k)!.split(/\s+/)[0], 10) : null);
  for (let attempt = 0; attempt < 10; attempt++) {
    const st = readText(`/proc/${pid}/status`);
    const stat = readText(`/proc/${pid}/stat`);
    const adj = readText(`/proc/${pid}/oom_score_adj`);
    const score = readText(`/proc/${pid}/oom_score`);
    const again = readText(`/proc/${pid}/status`);
    if (st === null || stat === null || adj === null || score === null || again === null) return null;
    const s = statusOf(st);
    const s2 = statusOf(again);
    if (keys.some((k) => s.get(k) !== s2.get(k))) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/); // fields from 3 (state) on
    const uid = (s.get('Uid') ?? '0 0').split(/\s+/);
    return {
      pid,
      name: s.get('Name') ?? '?',
      state: (s.get('State') ?? '?').slice(0, 1),
      ppid: parseInt(s.get('PPid') ?? '0', 10),
      uid: parseInt(uid[0], 10),
      euid: parseInt(uid[1], 10),
      cap_eff: s.get('CapEff') ?? null,
      kernel_thread: !s.has('VmSize'),
      nice: parseInt(f[16], 10),
      start_time_ticks: parseInt(f[19], 10),
      utime_ticks: parseInt(f[11], 10),
      stime_ticks: parseInt(f[12], 10),
      VmSize_kB: kb(s, 'VmSize'),
      VmRSS_kB: kb(s, 'VmRSS'),
      RssAnon_kB: kb(s, 'RssAnon'),
      RssFile_kB: kb(s, 'RssFile'),
      RssShmem_kB: kb(s, 'RssShmem'),
      VmSwap_kB: kb(s, 'VmSwap'),
      VmPTE_kB: kb(s, 'VmPTE'),
      threads: parseInt(s.get('Threads') ?? '1', 10),
      oom_score_adj: parseInt(adj, 10),
      oom_score: parseInt(score, 10),
    };
  }
  return null;
}

/** This machine's /proc now: meminfo, the vm sysctls, every process. */
export function captureProc(): unknown {
  const meminfo = meminfoFields(readText('/proc/meminfo') ?? '');
  const vm: Record<string, number> = {};
  for (const k of ['overcommit_memory', 'overcommit_ratio', 'overcommit_kbytes', 'admin_reserve_kbytes', 'user_reserve_kbytes', 'min_free_kbytes', 'swappiness', 'panic_on_oom', 'oom_kill_allocating_task', 'watermark_scale_factor']) {
    const v = readText(`/proc/sys/vm/${k}`);
    vm[k] = v === null || v.trim() === '' ? -1 : parseInt(v, 10);
  }
  const conf = (name: string, dflt: number): number => {
    try {
      return parseInt(execFileSync('getconf', [name], { encoding: 'utf8' }).trim(), 10);
    } catch {
      return dflt;
    }
  };
  const processes = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b)
    .map(procRecord)
    .filter((p): p is Record<string, unknown> => p !== null);
  return {
    kernel: release(),
    page_size: conf('PAGESIZE', 4096),
    clk_tck: conf('CLK_TCK', 100),
    uptime_s: parseFloat((readText('/proc/uptime') ?? '0').split(/\s+/)[0]),
    meminfo_kB: meminfo,
    vm,
    processes,
  };
}

// ---------------------------------------------------------------------------------------------
// Sizing

/** The RAM size whose totalram pages (MemTotal) is `target` under the profile's boot reservations. */
export function ramForTotalram(targetPages: number, profile: KernelProfile): { ramBytes: number; totalRamPages: number } {
  const managed = (pages: number): number => computeLayout(pages * PAGE, profile).zones.reduce((t, z) => t + z.managed, 0);
  // managed() grows with RAM (never by more than RAM does): bisect the smallest RAM that reaches the target.
  let lo = Math.max(targetPages, MIN_RAM / PAGE);
  let hi = Math.min(Math.max(lo * 2, lo + 65536), MAX_RAM / PAGE);
  if (managed(hi) < targetPages) return { ramBytes: hi * PAGE, totalRamPages: managed(hi) };
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (managed(mid) >= targetPages) hi = mid;
    else lo = mid + 1;
  }
  return { ramBytes: lo * PAGE, totalRamPages: managed(lo) };
}

// ---------------------------------------------------------------------------------------------
// The mirror

interface Mirrored {
  readonly real: MirroredProcess;
  readonly pid: number;
  /** rss + swap + page tables, pages: the badness sum. */
  readonly targetPoints: number;
  readonly gotPoints: number;
  readonly task: TaskInfo;
  /** Every figure as in the snapshot (swap aside). */
  readonly exactFigures: boolean;
  readonly notes: readonly string[];
  oomScore?: number;
}

const pagesOf = (kb: bigint | number): number => Math.floor(Number(kb) / 4);
const pointsOf = (t: TaskInfo): number => pagesOf(t.rssAnonKb) + pagesOf(t.rssFileKb) + pagesOf(t.rssShmemKb) + pagesOf(t.vmSwapKb) + pagesOf(t.vmPteKb);
const sanitize = (name: string): string => (name.replace(/\//g, '_').replace(/[^\x20-\x7e]/g, '?').slice(0, 64) || '?');

class Importer {
  private clockNs = 0;
  private readonly simPid = new Map<number, number>();
  private fileMade = false;

  constructor(
    private readonly client: MmsimClient,
    private readonly machine: MachineRef,
    private readonly fileBytes: number,
    private readonly maxRegions: number,
    private readonly ramPages: number,
  ) {}

  private async status(pid: number): Promise<TaskInfo> {
    const r = await this.client.vma.listTasks({ machine: this.machine, all: false });
    const t = r.tasks.find((x) => x.pid === pid);
    if (!t) throw new Error(`process ${pid} vanished while it was being imported`);
    return t;
  }

  private async mmap(pid: number, pages: number, prot: number, flags: number, file = ''): Promise<number> {
    const r = await this.client.vma.syscall({
      machine: this.machine,
      pid,
      nr: 'mmap',
      args: [0n, BigInt(pages * PAGE), BigInt(prot), BigInt(flags), -1n, 0n],
      filePath: file,
      fileSize: BigInt(file && !this.fileMade ? this.fileBytes : 0),
    });
    if (file) this.fileMade = true;
    if (r.result < 0n) throw new Error(`mmap of ${pages} pages in pid ${pid} failed: ${r.errno}`);
    return Number(r.result);
  }

  private async touch(pid: number, addr: number, pages: number, write: boolean): Promise<void> {
    if (pages <= 0) return;
    const r = await this.client.vma.touch({ machine: this.machine, pid, addr: BigInt(addr), length: BigInt(pages * PAGE), write });
    if (!r.ok) throw new Error(`touching ${pages} pages of pid ${pid} failed: ${r.signal}`);
  }

  async advanceTo(ns: number): Promise<void> {
    if (ns <= this.clockNs) return;
    const r = await this.client.machines.advanceTime({ machine: this.machine, ns: BigInt(ns - this.clockNs) });
    this.clockNs = Number(r.simTimeNs);
  }

  setClock(ns: number): void {
    this.clockNs = ns;
  }

  async process(p: MirroredProcess): Promise<Mirrored> {
    const notes: string[] = [];
    const caps = [p.capSysAdmin && 'CAP_SYS_ADMIN', p.capSysResource && 'CAP_SYS_RESOURCE', p.capSysRawio && 'CAP_SYS_RAWIO'].filter((c): c is string => !!c);
    // Spawn gives root every capability when none is named; 2.6.18's badness reads CAP_SYS_RAWIO.
    if (p.uid === 0 && !p.capSysRawio) notes.push('root without CAP_SYS_RAWIO: has it here');
    await this.advanceTo(p.startTimeNs);
    const spawned = await this.client.vma.spawn({
      machine: this.machine,
      name: sanitize(p.name),
      uid: p.uid,
      euid: p.euid,
      nice: p.nice,
      parent: this.simPid.get(p.ppid) ?? 0,
      oomScoreAdj: p.oomScoreAdj,
      rlimits: [],
      capabilities: p.uid === 0 ? [] : caps,
      cgroup: '',
      env: [],
      brkStart: 0n,
    });
    const pid = spawned.task!.pid;
    this.simPid.set(p.pid, pid);
    for (let i = 1; i < p.threads; i++) await this.client.vma.cloneThread({ machine: this.machine, pid });
    if (p.utimeTicks || p.stimeTicks) await this.client.vma.chargeCpu({ machine: this.machine, pid, utimeTicks: BigInt(p.utimeTicks), stimeTicks: BigInt(p.stimeTicks) });

    let t = await this.status(pid);
    // Shared anonymous memory, written.
    const ds = p.rssShmemPages - pagesOf(t.rssShmemKb);
    if (ds > 0) await this.touch(pid, await this.mmap(pid, ds, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS), ds, true);
    // File pages, read through a private mapping of one file every process shares (page cache shared as on the real machine).
    const df = p.rssFilePages - pagesOf(t.rssFileKb);
    if (df > 0) await this.touch(pid, await this.mmap(pid, df, PROT_READ, MAP_PRIVATE, MIRROR_FILE), df, false);
    t = await this.status(pid);

    const targetPoints = p.rssAnonPages + p.rssFilePages + p.rssShmemPages + p.swapPages + Math.floor(p.pgtablesBytes / PAGE);
    const targetPte = Math.floor(p.pgtablesBytes / PAGE);
    // Page-table pages: k more 2 MiB regions populated.
    // The regions are written whole before the pages not wanted are dropped: keep that under an eighth of RAM.
    const cap = Math.min(this.maxRegions, Math.floor(this.ramPages / 8 / REGION_PAGES));
    let k = Math.max(0, targetPte - pagesOf(t.vmPteKb));
    if (k > cap) {
      notes.push(`${k - cap} page-table pages held as anonymous pages (at most ${cap} built a process)`);
      k = cap;
    }
    // Anonymous pages a, over r regions, with 2 points spare for a PMD page a wide span may need:
    // a + r <= deficit - 2, r >= k, r >= ceil(a / 512).
    const budget = targetPoints - pointsOf(t) - 2;
    let room: { addr: number; pages: number } | null = null;
    if (budget > 0) {
      let r = Math.min(k, budget);
      let a = budget - r;
      if (a > r * REGION_PAGES) {
        a = Math.floor((budget * REGION_PAGES) / (REGION_PAGES + 1));
        while (a > 0 && a + Math.ceil(a / REGION_PAGES) > budget) a--;
        r = Math.max(1, Math.ceil(a / REGION_PAGES));
      }
      if (r > 0 && r * REGION_PAGES - a < 2) a = Math.max(0, a - 2); // keep room for the last pages
      const start = await this.mmap(pid, (r + 1) * REGION_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      const base = Math.ceil(start / (REGION_PAGES * PAGE)) * REGION_PAGES * PAGE;
      await this.touch(pid, base, r * REGION_PAGES, true);
      // zap what is not wanted: the pages go, the page tables stay (as in Linux)
      await this.client.vma.syscall({ machine: this.machine, pid, nr: 'madvise', args: [BigInt(base + a * PAGE), BigInt((r * REGION_PAGES - a) * PAGE), BigInt(MADV_DONTNEED)], filePath: '', fileSize: 0n });
      room = { addr: base + a * PAGE, pages: r * REGION_PAGES - a };
    }
    // Whatever the badness sum still lacks, in pages whose page table exists.
    for (let i = 0; i < 4; i++) {
      t = await this.status(pid);
      const deficit = targetPoints - pointsOf(t);
      if (deficit <= 0) break;
      if (!room || room.pages === 0) {
        const start = await this.mmap(pid, 2 * REGION_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        const base = Math.ceil(start / (REGION_PAGES * PAGE)) * REGION_PAGES * PAGE;
        await this.touch(pid, base, 1, true);
        room = { addr: base + PAGE, pages: REGION_PAGES - 1 };
        continue;
      }
      const n = Math.min(deficit, room.pages);
      await this.touch(pid, room.addr, n, true);
      room = { addr: room.addr + n * PAGE, pages: room.pages - n };
    }
    // The address space's size (2.6.18's badness starts from total_vm): a PROT_NONE reservation.
    t = await this.status(pid);
    const dvm = p.totalVmPages - pagesOf(t.vmSizeKb);
    if (dvm >= 1) {
      try {
        await this.mmap(pid, dvm, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        t = await this.status(pid);
      } catch {
        notes.push('VmSize not reached (the reservation was refused)');
      }
    }
    const gotPoints = pointsOf(t);
    if (p.swapPages) notes.push(`${p.swapPages} swapped pages held as anonymous pages (swap fills only under memory pressure)`);
    if (gotPoints !== targetPoints) notes.push(`badness sum ${gotPoints} pages, the snapshot's is ${targetPoints}`);
    const same = (a: bigint, b: number) => pagesOf(a) === b;
    const exactFigures =
      same(t.rssAnonKb, p.rssAnonPages) && same(t.rssFileKb, p.rssFilePages) && same(t.rssShmemKb, p.rssShmemPages) && same(t.vmPteKb, Math.floor(p.pgtablesBytes / PAGE)) && p.swapPages === 0;
    if (!exactFigures && gotPoints === targetPoints && !notes.length) notes.push('RSS split differs (the spawned program\'s own pages), badness sum exact');
    return { real: p, pid, targetPoints, gotPoints, task: t, exactFigures, notes };
  }
}

function victimOf(rows: readonly { pid: number; points: bigint; skipReason: string }[], profile: KernelProfile): number | null {
  let best: { pid: number; points: bigint } | null = null;
  for (const r of rows) {
    if (r.skipReason !== '') continue;
    // 6.18 keeps the later of equal scores, 2.6.18 the first (select_bad_process)
    if (!best || r.points > best.points || (profile === 'linux-6.18' && r.points === best.points)) best = r;
  }
  return best?.pid ?? null;
}

const who = (o: WhatIfOutcome): string => (o.kind === 'kill' ? `pid ${o.chosen} (${o.chosenName})${o.killed.length > 1 ? `, with ${o.killed.filter((p) => p !== o.chosen).join(', ')}` : ''}` : o.summary);

export const importCmd = clientCommand({
  name: 'import',
  summary: "build a simulated machine that mirrors a real one (a /proc snapshot) and say whom its OOM killer would kill",
  description:
    'Creates a machine with the same MemTotal, swap and vm sysctls, then spawns every user process in start-time\n' +
    'order with its name, uids, nice, oom_score_adj, threads and CPU time, and gives it its anonymous, file-backed\n' +
    'and shared memory, page tables and address-space size through Spawn, mmap, touch and madvise. Then checks that\n' +
    "the machine's oom_score (OomService.Scores) equals the real kernel's for every process, and tells whom the OOM\n" +
    'killer would kill now, and under --policy. The page cache nobody maps is read(2) by init up to the snapshot\'s\n' +
    'Cached. Swap (only memory pressure fills it: swapped pages are held as anonymous ones) and kernel memory are not\n' +
    "mirrored; a process whose own program pages exceed a figure keeps its badness sum exact with fewer anonymous pages.",
  options: [
    { name: 'snapshot', type: 'string', valueName: 'FILE', description: 'a /proc snapshot (capture-proc.py format)' },
    { name: 'from-proc', type: 'boolean', description: "read this machine's /proc now instead" },
    { name: 'save', type: 'string', valueName: 'FILE', description: 'with --from-proc: also write the snapshot there' },
    { name: 'machine', short: 'm', type: 'string', description: 'the new machine\'s name (default import, import-2...)' },
    { name: 'policy', type: 'string', valueName: 'PROFILE', description: "also say whom another kernel's OOM killer would kill (linux-2.6.18, linux-6.18)" },
    { name: 'max-regions', type: 'number', valueName: 'N', description: 'page-table pages built per process at most (the rest count as anonymous pages)', default: 1024 },
    { name: 'json', type: 'boolean', description: 'print JSON' },
  ],
  examples: ['mmsim import --snapshot test/fixtures/oom/adj-mix.json', 'mmsim import --from-proc --save now.json --policy linux-2.6.18', 'mmsim oom scores --machine import'],
  async run(client, args, io) {
    const o = args.options;
    if ((o.snapshot === undefined) === (o['from-proc'] !== true)) throw new UsageError('mmsim import: give --snapshot FILE or --from-proc (one of them)');
    if (o.save !== undefined && o['from-proc'] !== true) throw new UsageError('mmsim import: --save goes with --from-proc');
    const maxRegions = o['max-regions'] as number;
    if (!Number.isInteger(maxRegions) || maxRegions < 0) throw new UsageError('mmsim import: --max-regions takes a whole number >= 0');
    const policy = profileOption(args, 'import');
    let snap: ProcSnapshot;
    if (o.snapshot !== undefined) snap = readSnapshot(o.snapshot as string, 'import');
    else {
      const raw = captureProc();
      if (o.save !== undefined) writeFileSync(o.save as string, JSON.stringify(raw, null, 1) + '\n');
      snap = parseSnapshot(raw);
    }
    if (snap.page_size !== PAGE) throw new UsageError(`mmsim import: the snapshot's page size is ${snap.page_size}; the model has 4096-byte pages`);
    return runImport(client, snap, o.machine as string | undefined, policy, maxRegions, o.json === true, io);
  },
});

async function freeName(client: MmsimClient, base: string): Promise<string> {
  const names = new Set((await client.machines.listMachines({})).machines.map((m) => m.config?.ref?.machine));
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base}-${i}`)) return `${base}-${i}`;
}

async function runImport(client: MmsimClient, snap: ProcSnapshot, name: string | undefined, policy: KernelProfile | undefined, maxRegions: number, asJson: boolean, io: Io): Promise<number> {
  const mirror: MirroredMachine = snapshotToMachine(snap);
  const machine: MachineRef = { tenant: client.tenant, machine: name ?? (await freeName(client, 'import')) };
  const ram = ramForTotalram(mirror.totalRamPages, mirror.profile);
  const sysctls = Object.entries(mirror.sysctl)
    .filter(([k, v]) => v >= 0 && (snap.vm[k] ?? -1) >= 0)
    .map(([k, v]) => ({ name: `vm.${k}`, value: String(v) }));
  const created = await client.machines.createMachine({
    machine,
    profile: mirror.profile,
    ramBytes: BigInt(ram.ramBytes),
    swapBytes: BigInt(mirror.totalSwapPages > 0 ? (mirror.totalSwapPages + 1) * PAGE : 0),
    cpus: 2,
    seed: 1n,
    sysctls,
  });
  const procs = mirror.processes.filter((p) => !p.kernelThread && p.pid !== 1).sort((a, b) => a.startTimeNs - b.startTimeNs || a.pid - b.pid);
  const fileBytes = Math.max(1, ...procs.map((p) => p.rssFilePages)) * PAGE;
  const imp = new Importer(client, machine, fileBytes, maxRegions, ram.totalRamPages);
  imp.setClock(Number(created.machine?.simTimeNs ?? 0n));
  const done: Mirrored[] = [];
  for (const p of procs) {
    done.push(await imp.process(p));
    if (io.isTty) io.err(`\rimported ${done.length}/${procs.length} processes`);
  }
  if (io.isTty) io.err('\n');
  await imp.advanceTo(mirror.uptimeNs);

  // The page cache nobody maps (the real Cached beyond what the mirror holds): read(2) by init,
  // which fills the cache and maps nothing.
  const kbOf = (text: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const simCached = kbOf((await client.readProc(machine, '/proc/meminfo')).text, 'Cached');
  const moreCache = Math.floor(((snap.meminfo_kB.Cached ?? 0) - simCached) / 4);
  if (moreCache > 0) {
    const bytes = BigInt(moreCache * PAGE);
    await client.vma.readFile({ machine, pid: 1, filePath: CACHE_FILE, fileSize: bytes, offset: 0n, length: bytes });
  }

  // Checks: MemTotal, and every process's oom_score as the machine's OOM service computes it.
  const meminfo = (await client.readProc(machine, '/proc/meminfo')).text;
  const memTotal = kbOf(meminfo, 'MemTotal');
  const scores = await client.oom.scores({ machine });
  const byPid = new Map(scores.rows.map((r) => [r.pid, r]));
  for (const m of done) m.oomScore = byPid.get(m.pid)?.oomScore;
  const exact = done.filter((m) => m.gotPoints === m.targetPoints);
  const agree = exact.filter((m) => m.oomScore === m.real.kernelOomScore);

  // Whom the OOM killer would kill: on the imported machine (its scores), and from the snapshot under each policy.
  const simVictim = victimOf(scores.rows, mirror.profile);
  const t = snapshotToOomTasks(snap);
  const request = oomRequest({ tasks: t.tasks, totalPages: t.totalPages, nowNs: t.nowNs });
  const base = { request: { ...request, totalRamPages: t.totalRamPages, totalSwapPages: t.totalSwapPages }, profile: mirror.profile, policy: { panicOnOom: mirror.sysctl.panic_on_oom, oomKillAllocatingTask: mirror.sysctl.oom_kill_allocating_task } };
  const now = whatIf(base, []);
  const other = policy && policy !== mirror.profile ? whatIf(base, [{ kind: 'profile', profile: policy }]).after : policy ? now.before : null;
  const realOf = new Map(done.map((m) => [m.pid, m.real.pid]));
  const simOf = new Map(done.map((m) => [m.real.pid, m.pid]));

  if (asJson) {
    io.out(
      JSON.stringify(
        {
          machine: machine.machine,
          profile: mirror.profile,
          kernel: snap.kernel,
          memTotalKb: { snapshot: snap.meminfo_kB.MemTotal, machine: memTotal },
          meminfoKb: Object.fromEntries(['MemFree', 'MemAvailable', 'Cached', 'AnonPages', 'Shmem'].map((k) => [k, { snapshot: snap.meminfo_kB[k] ?? null, machine: kbOf(meminfo, k) }])),
          ramBytes: ram.ramBytes,
          processes: done.map((m) => ({
            pid: m.pid,
            realPid: m.real.pid,
            name: m.real.name,
            oomScoreAdj: m.real.oomScoreAdj,
            targetPoints: m.targetPoints,
            points: m.gotPoints,
            exactFigures: m.exactFigures,
            oomScore: m.oomScore ?? null,
            kernelOomScore: m.real.kernelOomScore,
            notes: m.notes,
          })),
          exact: exact.length,
          agree: agree.length,
          victim: { machine: simVictim === null ? null : { pid: simVictim, realPid: realOf.get(simVictim) ?? null }, snapshot: now.before, policy: other ? { profile: policy, outcome: other } : null },
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  io.out(`imported ${snap.kernel} (${procs.length} user processes) as machine ${machine.machine}: ${mirror.profile}, MemTotal ${memTotal} kB (snapshot ${snap.meminfo_kB.MemTotal} kB), swap ${snap.meminfo_kB.SwapTotal} kB\n`);
  io.out(`  MemFree ${kbOf(meminfo, 'MemFree')} kB (snapshot ${snap.meminfo_kB.MemFree ?? '?'}), Cached ${kbOf(meminfo, 'Cached')} kB (snapshot ${snap.meminfo_kB.Cached ?? '?'}), AnonPages ${kbOf(meminfo, 'AnonPages')} kB (snapshot ${snap.meminfo_kB.AnonPages ?? '?'})\n\n`);
  io.out(
    formatTable(
      ['PID', 'REAL', 'NAME', 'ADJ', 'POINTS', 'SNAPSHOT', 'OOM_SCORE', 'KERNEL', 'NOTE'],
      done.map((m) => [String(m.pid), String(m.real.pid), m.real.name, String(m.real.oomScoreAdj), String(m.gotPoints), String(m.targetPoints), String(m.oomScore ?? '?'), String(m.real.kernelOomScore), m.notes.join('; ')]),
      [true, true, false, true, true, true, true, true],
    ),
  );
  io.out(`\noom_score (mmsim oom scores) equals the real kernel's for ${agree.length} of the ${exact.length} processes whose badness sum is mirrored exactly (${done.length} imported).\n`);
  const bad = exact.filter((m) => m.oomScore !== m.real.kernelOomScore);
  if (bad.length) io.out(`  differ: ${bad.map((m) => `${m.pid} (real ${m.real.pid}) ${m.oomScore} vs ${m.real.kernelOomScore}`).join(', ')}\n`);
  const snapWho = now.before.kind === 'kill' ? `real pid ${now.before.chosen} (${now.before.chosenName}), simulated pid ${simOf.get(now.before.chosen) ?? '?'}` : now.before.summary;
  io.out(`\nThe ${mirror.profile} OOM killer would kill now: ${snapWho}.\n`);
  if (simVictim !== null && now.before.kind === 'kill' && simOf.get(now.before.chosen) !== simVictim) io.out(`  (the imported machine's scores point at pid ${simVictim} (real ${realOf.get(simVictim)}): the mirror differs there)\n`);
  if (other && policy) io.out(`Under ${policy}: ${other.kind === 'kill' ? `real pid ${other.chosen} (${other.chosenName}${other.killed.length > 1 ? `; also killed: ${other.killed.filter((p) => p !== other.chosen).join(', ')}` : ''}), simulated pid ${simOf.get(other.chosen) ?? '?'}` : who(other)}.\n`);
  io.out(`\nmmsim oom scores --machine ${machine.machine}     # the imported machine's oom_score table\n`);
  return 0;
}
