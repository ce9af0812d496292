// Snapshot this Linux machine's memory state as JSON, in the format of
// /work/shared/oracles/oom/capture-proc.py (our own code, same fields): /proc/meminfo (kB), the
// /proc/sys/vm tunables, page size, clock tick, uptime, and per process what
// /proc/<pid>/status, /proc/<pid>/stat, oom_score_adj and oom_score say (kernel threads kept).
//
// One difference: a process's status is read again after its oom_score, and the record is
// taken only when the memory figures did not move in between (up to 20 tries), so the
// kernel's oom_score and the figures it was computed from belong together.
//
//   npx tsx tools/oom/capture.ts > snapshot.json
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { pathToFileURL } from 'node:url';

const VM = [
  'overcommit_memory', 'overcommit_ratio', 'overcommit_kbytes', 'admin_reserve_kbytes', 'user_reserve_kbytes',
  'min_free_kbytes', 'swappiness', 'panic_on_oom', 'oom_kill_allocating_task', 'watermark_scale_factor',
];
const MEM_KEYS = ['VmSize', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'VmSwap', 'VmPTE'];

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function statusFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

const kb = (s: Map<string, string>, k: string): number | null => (s.has(k) ? parseInt((s.get(k) as string).split(/\s+/)[0], 10) : null);
const memKey = (s: Map<string, string>): string => MEM_KEYS.map((k) => s.get(k) ?? '-').join('|');

export function readProc(pid: number): Record<string, unknown> | null {
  for (let attempt = 0; attempt < 20; attempt++) {
    const st = read(`/proc/${pid}/status`);
    const stat = read(`/proc/${pid}/stat`);
    const adj = read(`/proc/${pid}/oom_score_adj`);
    const score = read(`/proc/${pid}/oom_score`);
    const st2 = read(`/proc/${pid}/status`);
    if (st === null || stat === null || adj === null || score === null || st2 === null) return null;
    const s = statusFields(st);
    if (memKey(s) !== memKey(statusFields(st2))) continue; // it moved: read again
    const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
    const uid = (s.get('Uid') ?? '0 0').split(/\s+/);
    return {
      pid,
      name: s.get('Name') ?? null,
      state: (s.get('State') ?? '?').slice(0, 1),
      ppid: parseInt(s.get('PPid') ?? '0', 10),
      uid: parseInt(uid[0], 10),
      euid: parseInt(uid[1], 10),
      cap_eff: s.get('CapEff') ?? null,
      kernel_thread: !s.has('VmSize'),
      nice: parseInt(rest[16], 10),
      start_time_ticks: parseInt(rest[19], 10),
      utime_ticks: parseInt(rest[11], 10),
      stime_ticks: parseInt(rest[12], 10),
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
  return null; // never steady: leave it out, as a process that exited
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (read('/proc/meminfo') ?? '').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = parseInt(line.slice(i + 1).trim().split(/\s+/)[0], 10);
  }
  return out;
}

const sysconf = (name: string): number => parseInt(execFileSync('getconf', [name], { encoding: 'utf8' }).trim(), 10);

/** The snapshot, as a plain object in capture-proc.py's key order. */
export function captureProc(): Record<string, unknown> {
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const processes = pids.map(readProc).filter((p): p is Record<string, unknown> => p !== null);
  processes.sort((a, b) => (a.pid as number) - (b.pid as number));
  const vm: Record<string, number> = {};
  for (const k of VM) {
    const v = read(`/proc/sys/vm/${k}`);
    vm[k] = v === null || v.trim() === '' ? -1 : parseInt(v, 10);
  }
  return {
    kernel: release(),
    page_size: sysconf('PAGESIZE'),
    clk_tck: sysconf('CLK_TCK'),
    uptime_s: parseFloat((read('/proc/uptime') ?? '0').split(/\s+/)[0]),
    meminfo_kB: meminfo(),
    vm,
    processes,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(JSON.stringify(captureProc(), null, 1) + '\n');
}
