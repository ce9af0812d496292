// Builders for specs, benches and what-if callers: a machine config, its OomInitialized event,
// and an OomRequest around a task list. Not model logic.
import { MODEL_VERSION, type KernelProfile } from '../common/index.js';
import type { OomMemcgInfo, OomRequest, OomTask, OomTrigger } from '../contracts/oom.js';
import { DEFAULT_SYSCTLS, type MachineConfig, type VmSysctls } from '../machine/config.js';
import type { OomEvent, OomPolicy } from './types.js';

export function machineConfig(profile: KernelProfile, ramPages: number, swapPages = 0, sysctl: Partial<VmSysctls> = {}): MachineConfig {
  return {
    tenant: 't',
    machine: 'm',
    profile,
    ramBytes: ramPages * 4096,
    swapBytes: swapPages * 4096,
    cpus: 2,
    seed: 1,
    sysctl: { ...DEFAULT_SYSCTLS, ...sysctl },
  };
}

/** The first event of a machine's oom aggregate, as Configure records it. */
export function oomInitialized(profile: KernelProfile, ramPages = 1_000_000, swapPages = 0, policy: Partial<OomPolicy> = {}): OomEvent {
  const p: OomPolicy = { panicOnOom: policy.panicOnOom ?? 0, oomKillAllocatingTask: policy.oomKillAllocatingTask ?? 0 };
  return {
    type: 'OomInitialized',
    config: machineConfig(profile, ramPages, swapPages, { panic_on_oom: p.panicOnOom, oom_kill_allocating_task: p.oomKillAllocatingTask }),
    modelVersion: MODEL_VERSION,
    policy: p,
    totalRamPages: ramPages,
    totalSwapPages: swapPages,
  };
}

export interface RequestInit {
  readonly tasks: readonly OomTask[];
  readonly totalPages?: number;
  /** The allocating task; defaults to the last task. */
  readonly current?: number;
  readonly memcg?: number;
  readonly memcgs?: readonly OomMemcgInfo[];
  readonly nowNs?: number;
  readonly gfp?: string;
  readonly order?: number;
}

export function oomRequest(init: RequestInit): OomRequest & { readonly type: 'OutOfMemory' } {
  const trigger: OomTrigger = {
    pid: init.current ?? init.tasks[init.tasks.length - 1]?.pid ?? 0,
    pages: 1,
    order: init.order ?? 0,
    gfp: init.gfp ?? 'GFP_HIGHUSER_MOVABLE',
    context: 'page-fault',
    constraint: init.memcg === undefined ? { kind: 'global' } : { kind: 'memcg', memcg: init.memcg },
  };
  const totalPages = init.totalPages ?? 1_000_000;
  return {
    type: 'OutOfMemory',
    trigger,
    totalPages,
    tasks: init.tasks,
    ...(init.memcgs ? { memcgs: init.memcgs } : {}),
    nowNs: init.nowNs ?? 0,
    ...(init.memcg === undefined ? { totalRamPages: totalPages, totalSwapPages: 0 } : {}),
  };
}
