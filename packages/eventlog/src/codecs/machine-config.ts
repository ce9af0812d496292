// MachineConfig (kernel) <-> mmsim.v1.MachineConfig, for every aggregate's first event.
import { isKernelProfile, type MachineConfig } from '@mmsim/kernel';
import type { MachineConfig as MachineConfigProto } from '@mmsim/proto';

export function machineConfigToProto(c: MachineConfig): MachineConfigProto {
  const s = c.sysctl;
  return {
    ref: { tenant: c.tenant, machine: c.machine },
    profile: c.profile,
    ramBytes: BigInt(c.ramBytes),
    swapBytes: BigInt(c.swapBytes),
    cpus: c.cpus,
    seed: BigInt(c.seed),
    sysctl: {
      overcommitMemory: s.overcommit_memory,
      overcommitRatio: s.overcommit_ratio,
      overcommitKbytes: BigInt(s.overcommit_kbytes),
      adminReserveKbytes: BigInt(s.admin_reserve_kbytes),
      userReserveKbytes: BigInt(s.user_reserve_kbytes),
      minFreeKbytes: BigInt(s.min_free_kbytes),
      watermarkScaleFactor: s.watermark_scale_factor,
      swappiness: s.swappiness,
      panicOnOom: s.panic_on_oom,
      oomKillAllocatingTask: s.oom_kill_allocating_task,
    },
  };
}

const small = (what: string, v: bigint): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`${what} ${v} is not a safe integer`);
  return Number(v);
};

function oneOf<T extends number>(what: string, v: number, allowed: readonly T[]): T {
  if (!(allowed as readonly number[]).includes(v)) throw new RangeError(`${what} ${v} is not one of ${allowed.join(', ')}`);
  return v as T;
}

export function machineConfigFromProto(p: MachineConfigProto): MachineConfig {
  if (!isKernelProfile(p.profile)) throw new RangeError(`unknown kernel profile ${JSON.stringify(p.profile)}`);
  const s = p.sysctl;
  if (!s) throw new RangeError('MachineConfig without sysctl');
  return {
    tenant: p.ref?.tenant ?? '',
    machine: p.ref?.machine ?? '',
    profile: p.profile,
    ramBytes: small('ram_bytes', p.ramBytes),
    swapBytes: small('swap_bytes', p.swapBytes),
    cpus: p.cpus,
    seed: small('seed', p.seed),
    sysctl: {
      overcommit_memory: oneOf('overcommit_memory', s.overcommitMemory, [0, 1, 2] as const),
      overcommit_ratio: s.overcommitRatio,
      overcommit_kbytes: small('overcommit_kbytes', s.overcommitKbytes),
      admin_reserve_kbytes: small('admin_reserve_kbytes', s.adminReserveKbytes),
      user_reserve_kbytes: small('user_reserve_kbytes', s.userReserveKbytes),
      min_free_kbytes: small('min_free_kbytes', s.minFreeKbytes),
      watermark_scale_factor: s.watermarkScaleFactor,
      swappiness: s.swappiness,
      panic_on_oom: oneOf('panic_on_oom', s.panicOnOom, [0, 1, 2] as const),
      oom_kill_allocating_task: oneOf('oom_kill_allocating_task', s.oomKillAllocatingTask, [0, 1] as const),
    },
  };
}
