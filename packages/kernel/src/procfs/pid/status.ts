// fs/proc/array.c proc_pid_status() as a 6.18 x86-64 kernel prints it. Fields the model does not
// simulate (signals, seccomp, context switches, speculation mitigations) carry the values an idle
// process on the reference machine shows.
import { notFound } from '../../common/index.js';
import { PAGE_SIZE } from '../../vm/constants.js';
import type { Caps, Mm, Task, VmState } from '../../vm/types.js';
import { kbLine } from './format.js';

const KB = PAGE_SIZE / 1024;

/** The capability bits the model knows, within the 41 of 6.18 (CAP_LAST_CAP 40). */
const CAP_IPC_LOCK = 14;
const CAP_SYS_RAWIO = 17;
const CAP_SYS_ADMIN = 21;
const CAP_SYS_RESOURCE = 24;
export const CAP_FULL = 2 ** 41 - 1;

export function capMask(c: Caps): number {
  if (c.sysAdmin && c.sysResource && c.sysRawio && c.ipcLock) return CAP_FULL;
  return (c.ipcLock ? 2 ** CAP_IPC_LOCK : 0) + (c.sysRawio ? 2 ** CAP_SYS_RAWIO : 0) + (c.sysAdmin ? 2 ** CAP_SYS_ADMIN : 0) + (c.sysResource ? 2 ** CAP_SYS_RESOURCE : 0);
}

const cap16 = (x: number): string => x.toString(16).padStart(16, '0');

/** fs/proc/array.c task_state_array: the letter and word /proc shows. */
export function stateString(t: Task): string {
  if (t.state === 'zombie') return 'Z (zombie)';
  if (t.state === 'dead') return 'X (dead)';
  if (t.isKthread && t.name.startsWith('kworker/')) return 'I (idle)';
  return 'S (sleeping)';
}

/** RLIMIT_SIGPENDING of init: max_threads / 2, max_threads = RAM / (8 * THREAD_SIZE) (fork_init). */
export const sigPendingLimit = (totalRamPages: number): number => Math.floor(Math.floor((totalRamPages * PAGE_SIZE) / (16384 * 8)) / 2);

/** "%*pb" of the online CPUs: 32-bit groups, comma separated, the first without leading zeros. */
export function cpuMask(cpus: number): string {
  const groups: string[] = [];
  for (let base = 0; base < cpus; base += 32) {
    const n = Math.min(32, cpus - base);
    groups.unshift((n === 32 ? 0xffffffff : 2 ** n - 1).toString(16));
  }
  return groups.map((g, i) => (i === 0 ? g : g.padStart(8, '0'))).join(',');
}

export const cpuList = (cpus: number): string => (cpus === 1 ? '0' : `0-${cpus - 1}`);

const MEMS_ALLOWED = Array.from({ length: 32 }, (_, i) => (i === 31 ? '00000001' : '00000000')).join(',');

/** fs/proc/task_mmu.c task_mem(). */
export function taskMem(mm: Mm): string[] {
  const rss = mm.rssAnon + mm.rssFile + mm.rssShmem;
  const hiwaterVm = Math.max(mm.totalVm, mm.hiwaterVm);
  const hiwaterRss = Math.max(rss, mm.hiwaterRss);
  // The executable's text is [start_code, end_code); the rest of the exec mappings are libraries.
  const textBytes = Math.min(Math.ceil(mm.endCode / PAGE_SIZE) * PAGE_SIZE - Math.floor(mm.startCode / PAGE_SIZE) * PAGE_SIZE, mm.execVm * PAGE_SIZE);
  const libBytes = mm.execVm * PAGE_SIZE - textBytes;
  return [
    kbLine('VmPeak', hiwaterVm * KB),
    kbLine('VmSize', mm.totalVm * KB),
    kbLine('VmLck', mm.lockedVm * KB),
    kbLine('VmPin', 0),
    kbLine('VmHWM', hiwaterRss * KB),
    kbLine('VmRSS', rss * KB),
    kbLine('RssAnon', mm.rssAnon * KB),
    kbLine('RssFile', mm.rssFile * KB),
    kbLine('RssShmem', mm.rssShmem * KB),
    kbLine('VmData', mm.dataVm * KB),
    kbLine('VmStk', mm.stackVm * KB),
    kbLine('VmExe', textBytes / 1024),
    kbLine('VmLib', libBytes / 1024),
    kbLine('VmPTE', (mm.ptePages + mm.pmdPages + mm.pudPages) * KB),
    kbLine('VmSwap', mm.swapEnts * KB),
    kbLine('HugetlbPages', 0),
  ];
}

export function renderStatus(s: VmState, pid: number): string {
  const t = s.tasks.get(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  const leader = s.tasks.get(t.tgid) ?? t;
  const mm = t.mmId ? s.mms.get(t.mmId) : undefined;
  const threads = [...s.tasks.values()].filter((x) => x.tgid === t.tgid && x.state === 'running').length || 1;
  const cpus = s.machine?.cpus ?? 1;
  const caps = cap16(capMask(t.caps));
  const ids = `${t.uid}\t${t.euid}\t${t.euid}\t${t.euid}`;
  const pgid = t.isKthread ? 0 : leader.pid;
  const lines = [
    `Name:\t${t.name}`,
    'Umask:\t0022',
    `State:\t${stateString(t)}`,
    `Tgid:\t${t.tgid}`,
    'Ngid:\t0',
    `Pid:\t${t.pid}`,
    `PPid:\t${t.ppid}`,
    'TracerPid:\t0',
    `Uid:\t${ids}`,
    `Gid:\t${ids}`,
    `FDSize:\t${t.isKthread ? 64 : 64}`,
    'Groups:\t ',
    `NStgid:\t${t.tgid}`,
    `NSpid:\t${t.pid}`,
    `NSpgid:\t${pgid}`,
    `NSsid:\t${pgid}`,
    `Kthread:\t${t.isKthread ? 1 : 0}`,
  ];
  if (mm) lines.push(...taskMem(mm), 'CoreDumping:\t0', 'THP_enabled:\t1', 'untag_mask:\t0xffffffffffffffff');
  lines.push(
    `Threads:\t${threads}`,
    `SigQ:\t0/${sigPendingLimit(s.machine?.totals.totalRamPages ?? 0)}`,
    'SigPnd:\t0000000000000000',
    'ShdPnd:\t0000000000000000',
    'SigBlk:\t0000000000000000',
    `SigIgn:\t${t.isKthread ? 'ffffffffffffffff' : '0000000000000000'}`,
    'SigCgt:\t0000000000000000',
    'CapInh:\t0000000000000000',
    `CapPrm:\t${caps}`,
    `CapEff:\t${caps}`,
    `CapBnd:\t${cap16(CAP_FULL)}`,
    'CapAmb:\t0000000000000000',
    'NoNewPrivs:\t0',
    'Seccomp:\t0',
    'Seccomp_filters:\t0',
    'Speculation_Store_Bypass:\tvulnerable',
    'SpeculationIndirectBranch:\talways enabled',
    `Cpus_allowed:\t${cpuMask(cpus)}`,
    `Cpus_allowed_list:\t${cpuList(cpus)}`,
    `Mems_allowed:\t${MEMS_ALLOWED}`,
    'Mems_allowed_list:\t0',
    'voluntary_ctxt_switches:\t0',
    'nonvoluntary_ctxt_switches:\t0',
  );
  return lines.join('\n') + '\n';
}
