// Machine configs the frames specs share (a plain data module: no test framework in it).
import { DEFAULT_SYSCTLS, type MachineConfig, type VmSysctls } from '../machine/config.js';
import type { KernelProfile } from '../common/index.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export function machine(ramBytes: number, swapBytes = 0, profile: KernelProfile = 'linux-6.18', sysctl: Partial<VmSysctls> = {}): MachineConfig {
  return { tenant: 't', machine: 'm', profile, ramBytes, swapBytes, cpus: 2, seed: 1, sysctl: { ...DEFAULT_SYSCTLS, ...sysctl } };
}
