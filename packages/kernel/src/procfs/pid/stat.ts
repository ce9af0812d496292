// fs/proc/array.c do_task_stat(): /proc/<pid>/stat, 52 fields. For a thread-group leader the
// fault counts and CPU times are the group's.
import { notFound } from '../../common/index.js';
import { PAGE_SIZE, USER_HZ } from '../../vm/constants.js';
import type { VmState } from '../../vm/types.js';
import { ULONG_MAX } from './format.js';

/** PF_RANDOMIZE; kernel threads: PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC. */
const PF_USER = 0x400000;
const PF_KTHREAD_FLAGS = 0x208040;
const SIGCHLD = 17;

export function renderStat(s: VmState, pid: number): string {
  const t = s.tasks.get(pid);
  if (!t) throw notFound('vma.NO_SUCH_PID', `no task ${pid}`);
  const mm = t.mmId ? s.mms.get(t.mmId) : undefined;
  const group = t.pid === t.tgid ? [...s.tasks.values()].filter((x) => x.tgid === t.tgid) : [t];
  const sum = (f: (x: (typeof group)[number]) => number): number => group.reduce((n, x) => n + f(x), 0);
  const state = t.state === 'zombie' ? 'Z' : t.state === 'dead' ? 'X' : t.isKthread && t.name.startsWith('kworker/') ? 'I' : 'S';
  const pgrp = t.isKthread ? 0 : t.tgid;
  const nsPerTick = 1e9 / USER_HZ;
  const f: (string | number)[] = [
    t.pid,
    `(${t.name})`,
    state,
    t.ppid,
    pgrp,
    pgrp,
    0, // tty_nr
    -1, // tpgid
    t.isKthread ? PF_KTHREAD_FLAGS : PF_USER,
    sum((x) => x.minflt),
    0,
    sum((x) => x.majflt),
    0,
    sum((x) => x.utimeTicks),
    sum((x) => x.stimeTicks),
    0,
    0,
    20 + t.nice, // priority: prio - MAX_RT_PRIO
    t.nice,
    group.filter((x) => x.state === 'running').length || 1,
    0, // itrealvalue
    Math.floor(t.startTimeNs / nsPerTick),
    mm ? mm.totalVm * PAGE_SIZE : 0,
    mm ? mm.rssAnon + mm.rssFile + mm.rssShmem : 0,
    ULONG_MAX, // rsslim
    mm ? mm.startCode : 0,
    mm ? mm.endCode : 0,
    mm ? mm.startStack : 0,
    0, // kstkesp
    0, // kstkeip
    0, // signal
    0, // blocked
    t.isKthread ? 2147483647 : 0, // sigignore
    0, // sigcatch
    t.state === 'running' ? 1 : 0, // wchan: blocked in the kernel
    0,
    0,
    t.isKthread ? 0 : SIGCHLD,
    0, // processor
    0,
    0,
    0,
    0,
    0,
    mm ? mm.startData : 0,
    mm ? mm.endData : 0,
    mm ? mm.startBrk : 0,
    mm ? mm.argStart : 0,
    mm ? mm.argEnd : 0,
    mm ? mm.envStart : 0,
    mm ? mm.envEnd : 0,
    t.state === 'zombie' ? t.exitCode * 256 + t.exitSignal : 0,
  ];
  return f.join(' ') + '\n';
}
