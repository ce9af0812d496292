// The changes a what-if asks for, as the CLI and WhatIfRequest spell them:
//   policy  linux-2.6.18 | linux-6.18
//   adj     PID=VALUE                  (oom_score_adj; written as root)
//   sysctl  vm.NAME=VALUE              (any /proc/sys/vm setting the machine has)
//   cgroup  PATH:FILE=VALUE            (memory.max, memory.swap.max, memory.high: bytes, K/M/G, or max; memory.oom.group: 0|1)
// Each becomes a change the recorded decision can be re-decided under (WhatIfChange), a change
// made on a machine rebuilt from the log (MachineChange, for --continue), or both. Settings that
// decide which allocations succeed rather than whom the OOM killer picks (overcommit, reserves,
// watermarks, memory.high) only show when the rest of the workload is run again.
import { DEFAULT_SYSCTLS, invalid, isKernelProfile, pageCounterMemparse, type KernelProfile, type VmSysctls } from '@mmsim/kernel';
import type { WhatIfChange } from '@mmsim/kernel/oom';

export type CgroupFile = 'memory.max' | 'memory.high' | 'memory.swap.max' | 'memory.oom.group';

export type MachineChange =
  | { readonly kind: 'profile'; readonly profile: KernelProfile }
  | { readonly kind: 'adj'; readonly pid: number; readonly oomScoreAdj: number }
  | { readonly kind: 'sysctl'; readonly name: keyof VmSysctls; readonly value: number }
  /** bytes: -1 = "max"; memory.oom.group: 0 or 1. */
  | { readonly kind: 'cgroup'; readonly path: string; readonly file: CgroupFile; readonly value: number };

export interface ParsedChanges {
  /** What the recorded decision can be re-decided under. */
  readonly decision: readonly WhatIfChange[];
  /** The same changes as writes on a rebuilt machine (--continue). */
  readonly machine: readonly MachineChange[];
  /** Changes that only show with --continue, as the user wrote them. */
  readonly runOnly: readonly string[];
}

export interface ChangeSpec {
  readonly policy?: string;
  readonly adj?: readonly string[];
  readonly sysctl?: readonly string[];
  readonly cgroup?: readonly string[];
}

const bad = (message: string): never => {
  throw invalid('oom.BAD_WHATIF', message);
};

const SYSCTLS = Object.keys(DEFAULT_SYSCTLS) as (keyof VmSysctls)[];
const DECIDING_SYSCTLS: readonly string[] = ['panic_on_oom', 'oom_kill_allocating_task'];
/** memory.max-style values as the kernel reads them (pageCounterMemparse), or "max" (-1). */
export function cgroupBytes(v: string, file: string): number {
  const n = pageCounterMemparse(v);
  return n === undefined ? bad(`${file} takes bytes (K, M, G suffixes allowed) or "max", got "${v}"`) : n;
}

export function parseChanges(spec: ChangeSpec): ParsedChanges {
  const decision: WhatIfChange[] = [];
  const machine: MachineChange[] = [];
  const runOnly: string[] = [];
  if (spec.policy) {
    if (!isKernelProfile(spec.policy)) bad(`--policy takes linux-6.18 or linux-2.6.18, got "${spec.policy}"`);
    const profile = spec.policy as KernelProfile;
    decision.push({ kind: 'profile', profile });
    machine.push({ kind: 'profile', profile });
  }
  for (const a of spec.adj ?? []) {
    const m = /^(\d+)=(-?\d+)$/.exec(a.trim());
    if (!m) bad(`--adj takes PID=VALUE, got "${a}"`);
    const pid = Number(m![1]);
    const oomScoreAdj = Number(m![2]);
    if (oomScoreAdj < -1000 || oomScoreAdj > 1000) bad(`oom_score_adj must be -1000..1000, got ${oomScoreAdj}`);
    decision.push({ kind: 'adj', pid, oomScoreAdj });
    machine.push({ kind: 'adj', pid, oomScoreAdj });
  }
  for (const s of spec.sysctl ?? []) {
    const m = /^(?:vm\.)?([a-z_]+)=(-?\d+)$/.exec(s.trim());
    if (!m) bad(`--sysctl takes vm.NAME=VALUE, got "${s}"`);
    const name = m![1];
    if (!(SYSCTLS as string[]).includes(name)) bad(`unknown sysctl vm.${name} (known: ${SYSCTLS.map((x) => `vm.${x}`).join(', ')})`);
    const value = Number(m![2]);
    machine.push({ kind: 'sysctl', name: name as keyof VmSysctls, value });
    if (DECIDING_SYSCTLS.includes(name)) {
      if (name === 'panic_on_oom' && value !== 0 && value !== 1 && value !== 2) bad(`vm.panic_on_oom takes 0, 1 or 2, got ${value}`);
      if (name === 'oom_kill_allocating_task' && value !== 0 && value !== 1) bad(`vm.oom_kill_allocating_task takes 0 or 1, got ${value}`);
      decision.push({ kind: 'sysctl', name: name as 'panic_on_oom' | 'oom_kill_allocating_task', value });
    } else runOnly.push(`vm.${name}=${value}`);
  }
  for (const c of spec.cgroup ?? []) {
    const m = /^(\/[A-Za-z0-9_./-]*):(memory\.[a-z.]+)=(\S+)$/.exec(c.trim());
    if (!m) bad(`--cgroup takes PATH:FILE=VALUE (e.g. /tenants/a:memory.max=256M), got "${c}"`);
    const [, path, file, raw] = m!;
    switch (file) {
      case 'memory.oom.group': {
        if (raw !== '0' && raw !== '1') bad(`memory.oom.group takes 0 or 1, got "${raw}"`);
        decision.push({ kind: 'memcg', memcg: path, oomGroup: raw === '1' });
        machine.push({ kind: 'cgroup', path, file, value: Number(raw) });
        break;
      }
      case 'memory.max':
      case 'memory.swap.max': {
        const bytes = cgroupBytes(raw, file);
        const pages = bytes < 0 ? -1 : Math.floor(bytes / 4096); // page_counter_memparse() rounds down
        decision.push(file === 'memory.max' ? { kind: 'memcg', memcg: path, memoryMaxPages: pages } : { kind: 'memcg', memcg: path, swapMaxPages: pages });
        machine.push({ kind: 'cgroup', path, file, value: bytes });
        break;
      }
      case 'memory.high':
        machine.push({ kind: 'cgroup', path, file, value: cgroupBytes(raw, file) });
        runOnly.push(`${path}:${file}=${raw}`);
        break;
      default:
        bad(`cannot change ${file} (memory.max, memory.swap.max, memory.high, memory.oom.group)`);
    }
  }
  if (machine.length === 0) bad('name at least one change: --policy, --adj PID=VALUE, --sysctl vm.NAME=VALUE or --cgroup PATH:FILE=VALUE');
  return { decision, machine, runOnly };
}

export function describeMachineChange(c: MachineChange): string {
  switch (c.kind) {
    case 'profile':
      return `the ${c.profile} OOM killer`;
    case 'adj':
      return `oom_score_adj ${c.oomScoreAdj} on pid ${c.pid}`;
    case 'sysctl':
      return `vm.${c.name}=${c.value}`;
    case 'cgroup':
      return `${c.file}=${c.value < 0 ? 'max' : c.value} on ${c.path}`;
  }
}

/** Why a run-only change does not show in a re-decided OOM. */
export function runOnlyNote(runOnly: readonly string[]): string | null {
  if (runOnly.length === 0) return null;
  return (
    `${runOnly.join(', ')} ${runOnly.length > 1 ? 'change' : 'changes'} which allocations succeed (an allocation may fail with ENOMEM, ` +
    'or memory be reclaimed, before any OOM), not whom the OOM killer picks: re-deciding the recorded OOM cannot show it. ' +
    'Add --continue to run the rest of the recorded workload under it.'
  );
}
