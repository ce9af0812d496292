// A /proc snapshot of a real Linux machine, in the JSON format of capture-proc.py (and of our
// own tools/oom/capture.ts). The field names are the file's, not ours: this type describes a
// file format. parseSnapshot() checks a parsed JSON value and returns it typed.
import { invalid } from '../../common/index.js';

export interface SnapshotProcessRecord {
  readonly pid: number;
  readonly name: string;
  readonly state: string;
  readonly ppid: number;
  readonly uid: number;
  readonly euid: number;
  /** /proc/<pid>/status CapEff, hex. */
  readonly cap_eff: string | null;
  readonly kernel_thread: boolean;
  readonly nice: number;
  /** Clock ticks (clk_tck per second) since boot, from /proc/<pid>/stat. */
  readonly start_time_ticks: number;
  readonly utime_ticks: number;
  readonly stime_ticks: number;
  /** /proc/<pid>/status figures in kB; null for kernel threads. */
  readonly VmSize_kB: number | null;
  readonly VmRSS_kB: number | null;
  readonly RssAnon_kB: number | null;
  readonly RssFile_kB: number | null;
  readonly RssShmem_kB: number | null;
  readonly VmSwap_kB: number | null;
  readonly VmPTE_kB: number | null;
  readonly threads: number;
  readonly oom_score_adj: number;
  /** What the kernel printed in /proc/<pid>/oom_score. */
  readonly oom_score: number;
}

export interface ProcSnapshot {
  /** uname -r */
  readonly kernel: string;
  readonly page_size: number;
  readonly clk_tck: number;
  readonly uptime_s: number;
  /** /proc/meminfo, kB (HugePages_* are counts). */
  readonly meminfo_kB: Readonly<Record<string, number>>;
  /** /proc/sys/vm tunables; -1 when unreadable. */
  readonly vm: Readonly<Record<string, number>>;
  readonly processes: readonly SnapshotProcessRecord[];
}

const MEM_FIELDS = ['VmSize_kB', 'VmRSS_kB', 'RssAnon_kB', 'RssFile_kB', 'RssShmem_kB', 'VmSwap_kB', 'VmPTE_kB'] as const;

export function parseSnapshot(json: unknown): ProcSnapshot {
  const bad = (what: string): never => {
    throw invalid('oom.BAD_SNAPSHOT', `snapshot: ${what}`);
  };
  const o = json as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) bad('not an object');
  const num = (x: unknown, what: string): number => (typeof x === 'number' && Number.isFinite(x) ? x : bad(`${what} is not a number`));
  const int = (x: unknown, what: string): number => (Number.isInteger(x) ? (x as number) : bad(`${what} is not an integer`));
  if (typeof o.kernel !== 'string') bad('kernel is not a string');
  const pageSize = int(o.page_size, 'page_size');
  if (pageSize % 1024 !== 0 || pageSize <= 0) bad(`page_size ${pageSize}`);
  const meminfo = o.meminfo_kB as Record<string, unknown>;
  if (typeof meminfo !== 'object' || meminfo === null) bad('meminfo_kB missing');
  for (const [k, v] of Object.entries(meminfo)) int(v, `meminfo_kB.${k}`);
  if (!Number.isInteger(meminfo.MemTotal) || !Number.isInteger(meminfo.SwapTotal)) bad('meminfo_kB needs MemTotal and SwapTotal');
  const vm = (o.vm ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(vm)) int(v, `vm.${k}`);
  if (!Array.isArray(o.processes)) bad('processes is not a list');
  const processes = (o.processes as Record<string, unknown>[]).map((p, i) => {
    const at = `processes[${i}]`;
    for (const k of ['pid', 'ppid', 'uid', 'euid', 'nice', 'start_time_ticks', 'utime_ticks', 'stime_ticks', 'threads', 'oom_score_adj', 'oom_score']) int(p[k], `${at}.${k}`);
    if (typeof p.name !== 'string') bad(`${at}.name`);
    if (typeof p.kernel_thread !== 'boolean') bad(`${at}.kernel_thread`);
    for (const k of MEM_FIELDS) if (p[k] !== null && p[k] !== undefined) int(p[k], `${at}.${k}`);
    if (!p.kernel_thread) for (const k of ['VmSize_kB', 'RssAnon_kB', 'RssFile_kB', 'RssShmem_kB', 'VmPTE_kB']) if (!Number.isInteger(p[k])) bad(`${at}.${k} missing on a user process`);
    return p as unknown as SnapshotProcessRecord;
  });
  return {
    kernel: o.kernel as string,
    page_size: pageSize,
    clk_tck: int(o.clk_tck, 'clk_tck'),
    uptime_s: num(o.uptime_s, 'uptime_s'),
    meminfo_kB: meminfo as Record<string, number>,
    vm: vm as Record<string, number>,
    processes,
  };
}
