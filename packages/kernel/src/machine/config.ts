// What a machine is made of. CreateMachine carries it; every aggregate's first event on a
// machine records the part it needs (with the model version), so an old log replays under the
// rules it was written with.
import type { KernelProfile } from '../common/index.js';

export interface MachineConfig {
  readonly tenant: string;
  readonly machine: string;
  readonly profile: KernelProfile;
  /** Physical RAM in bytes (a multiple of 4 KiB). */
  readonly ramBytes: number;
  /** Swap device size in bytes (0: no swap). */
  readonly swapBytes: number;
  /** Online CPUs: glibc's arena limit is 8 x cores. */
  readonly cpus: number;
  /** Seeds every PRNG stream of the machine (ASLR, workload generators). */
  readonly seed: number;
  readonly sysctl: VmSysctls;
}

/** /proc/sys/vm as far as mmsim models it. Defaults are the kernel's. */
export interface VmSysctls {
  readonly overcommit_memory: 0 | 1 | 2;
  readonly overcommit_ratio: number;
  readonly overcommit_kbytes: number;
  /** -1: let the kernel compute it from RAM (init_admin_reserve / init_user_reserve). */
  readonly admin_reserve_kbytes: number;
  readonly user_reserve_kbytes: number;
  /** -1: computed by the kernel's init_per_zone_wmark_min(). */
  readonly min_free_kbytes: number;
  readonly watermark_scale_factor: number;
  readonly swappiness: number;
  readonly panic_on_oom: 0 | 1 | 2;
  readonly oom_kill_allocating_task: 0 | 1;
}

export const DEFAULT_SYSCTLS: VmSysctls = {
  overcommit_memory: 0,
  overcommit_ratio: 50,
  overcommit_kbytes: 0,
  admin_reserve_kbytes: -1,
  user_reserve_kbytes: -1,
  min_free_kbytes: -1,
  watermark_scale_factor: 10,
  swappiness: 60,
  panic_on_oom: 0,
  oom_kill_allocating_task: 0,
};
