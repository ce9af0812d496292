// /proc/sys/vm names, and which aggregates keep each: vm keeps them all (overcommit needs its
// own, and it answers reads), frames and oom are told the ones their decisions read.
import { DEFAULT_SYSCTLS, invalid, type ServiceName, type VmSysctls } from '@mmsim/kernel';

export type SysctlName = keyof VmSysctls;

const ALSO: Readonly<Record<SysctlName, readonly ServiceName[]>> = {
  overcommit_memory: [],
  overcommit_ratio: [],
  overcommit_kbytes: [],
  admin_reserve_kbytes: [],
  user_reserve_kbytes: [],
  min_free_kbytes: ['frames'],
  watermark_scale_factor: ['frames'],
  swappiness: ['frames'],
  panic_on_oom: ['oom'],
  oom_kill_allocating_task: ['oom'],
};

const RANGE: Readonly<Record<SysctlName, readonly [number, number]>> = {
  overcommit_memory: [0, 2],
  overcommit_ratio: [0, 2 ** 31 - 1],
  overcommit_kbytes: [0, Number.MAX_SAFE_INTEGER],
  admin_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
  user_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
  min_free_kbytes: [0, 2 ** 31 - 1],
  watermark_scale_factor: [1, 3000],
  swappiness: [0, 200],
  panic_on_oom: [0, 2],
  oom_kill_allocating_task: [0, 1],
};

export const SYSCTL_NAMES = Object.keys(DEFAULT_SYSCTLS) as SysctlName[];

/** "vm.overcommit_memory", "overcommit_memory" or "/proc/sys/vm/overcommit_memory". */
export function sysctlName(raw: string): SysctlName {
  const n = raw.replace(/^\/?proc\/sys\/vm\//, '').replace(/^vm\./, '');
  if (!(SYSCTL_NAMES as string[]).includes(n)) {
    throw invalid('vma.UNKNOWN_SYSCTL', `unknown sysctl "${raw}" (known: ${SYSCTL_NAMES.map((s) => 'vm.' + s).join(', ')})`);
  }
  return n as SysctlName;
}

export function sysctlValue(name: SysctlName, raw: string): number {
  const v = Number(raw.trim());
  const [lo, hi] = RANGE[name];
  if (raw.trim() === '' || !Number.isInteger(v) || v < lo || v > hi) {
    throw invalid('vma.INVALID_SYSCTL_VALUE', `vm.${name} takes an integer in [${lo}, ${hi}], got "${raw}"`);
  }
  return v;
}

export const sysctlAlsoTold = (name: SysctlName): readonly ServiceName[] => ALSO[name];
