// What exists from boot: init (pid 1) and the kernel threads (no mm), in the order and with the
// names a 6.18 x86-64 machine shows; pids then continue from FIRST_USER_PID.
import { RLIM_INFINITY } from './constants.js';
import type { Caps, Rlimits } from './types.js';

/** Where user pids start after boot (a booted system has used a few hundred). */
export const FIRST_USER_PID = 1000;
/** /proc/sys/kernel/pid_max default (32768) and RESERVED_PIDS, where allocation wraps to. */
export const PID_MAX = 32768;
export const RESERVED_PIDS = 300;

export const ALL_CAPS: Caps = { sysAdmin: true, sysResource: true, sysRawio: true, ipcLock: true };
export const NO_CAPS: Caps = { sysAdmin: false, sysResource: false, sysRawio: false, ipcLock: false };

/** The limits init starts with (ulimit -a on the reference machine): stack 8 MiB, memlock 8 MiB. */
export const DEFAULT_RLIMITS: Rlimits = { as: RLIM_INFINITY, data: RLIM_INFINITY, stack: 8 * 1024 * 1024, memlock: 8 * 1024 * 1024 };

/** Kernel threads after kthreadd (pid 2), as `ps` lists them on a booted 6.18 machine. */
export function kernelThreadNames(cpus: number): string[] {
  const names = [
    'pool_workqueue_release',
    'kworker/R-rcu_gp',
    'kworker/R-sync_wq',
    'kworker/R-kvfree_rcu_reclaim',
    'kworker/R-slub_flushwq',
    'kworker/R-netns',
    'kworker/0:0-events',
    'kworker/0:0H-events_highpri',
    'kworker/u8:0-events_unbound',
    'kworker/R-mm_percpu_wq',
    'ksoftirqd/0',
    'rcu_preempt',
    'rcu_exp_par_gp_kthread_worker/0',
    'rcu_exp_gp_kthread_worker',
    'migration/0',
    'cpuhp/0',
  ];
  for (let c = 1; c < cpus; c++) names.push(`cpuhp/${c}`, `migration/${c}`, `ksoftirqd/${c}`, `kworker/${c}:0-events`, `kworker/${c}:0H-events_highpri`);
  names.push(
    'kdevtmpfs',
    'kworker/R-inet_frag_wq',
    'rcu_tasks_kthread',
    'rcu_tasks_rude_kthread',
    'rcu_tasks_trace_kthread',
    'kauditd',
    'khungtaskd',
    'oom_reaper',
    'kworker/R-writeback',
    'kcompactd0',
    'ksmd',
    'khugepaged',
    'kworker/R-kblockd',
    'kworker/R-blkcg_punt_bio',
    'watchdogd',
    'kswapd0',
    'kworker/R-kthrotld',
    'kworker/R-ipv6_addrconf',
  );
  return names;
}

/** Highpri workers run at nice -20. */
export const kthreadNice = (name: string): number => (/H-|H$/.test(name) && name.startsWith('kworker/') ? -20 : 0);
