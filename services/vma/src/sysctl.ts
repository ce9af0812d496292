// /proc/sys/vm names and values. vm keeps them all (overcommit needs its own, and it answers
// reads) and tells frames and oom the ones their decisions read (vm/decide-machine.ts
// decideSetSysctl, through a Need). Reads show what the kernel would: min_free_kbytes as frames
// computed it at boot (init_per_zone_wmark_min) until it is written; the reserves as
// init_admin_reserve()/init_user_reserve() computed them.
import { DEFAULT_SYSCTLS, invalid, type VmSysctls } from '@mmsim/kernel';
import type { FramesFigures } from '@mmsim/kernel/frames';
import type { VmCommand, VmEvent, VmState } from '@mmsim/kernel/vm';
import type { AggregateHost, AskFn } from '@mmsim/host';
import type { MachineRefLike } from '@mmsim/grpc';

export type SysctlName = keyof VmSysctls;

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

/** The value vm keeps, or null when the kernel computed it and only frames knows it (min_free_kbytes never written). */
export function sysctlKept(s: VmState, name: SysctlName): number | null {
  if (name === 'admin_reserve_kbytes') return s.sc.adminReserveKbytes;
  if (name === 'user_reserve_kbytes') return s.sc.userReserveKbytes;
  const v = s.sc.sysctl[name];
  return name === 'min_free_kbytes' && v < 0 ? null : v;
}

/** What a read of /proc/sys/vm/<name> shows now. */
export async function sysctlNow(host: AggregateHost<VmCommand, VmEvent, VmState>, ask: AskFn, ref: MachineRefLike, name: SysctlName): Promise<number> {
  const kept = host.query(ref, (s) => sysctlKept(s, name));
  if (kept !== null) return kept;
  const ctx = { machine: ref, requestId: '', parentSeq: 0, simTimeNs: 0n, position: host.position(ref) };
  const f = (await ask('frames', { type: 'GetFigures' }, ctx)).answer as FramesFigures;
  return f.minFreeKbytes;
}
