// (command, state) -> events. Reads state, changes nothing; the same command on the same state
// gives the same events. The policy and profile come from state (the machine's first event),
// never from config or env, so an old log re-decides under the rules it was written with.
import { invalid, isKernelProfile, MODEL_VERSION, notFound, precondition, unreachable, PAGE_SIZE } from '../common/index.js';
import type { OomRequest } from '../contracts/oom.js';
import { decideOutOfMemory } from './out-of-memory.js';
import { runReaper } from './reaper.js';
import { earlyoomPoll } from './userspace/earlyoom.js';
import { normalizeKillerOptions } from './userspace/options.js';
import { oomdPoll } from './userspace/systemd-oomd.js';
import type { OomCommand, OomEvent, OomPolicy, OomState } from './types.js';

/** vm may send its OomRequest as is (without `type`): it is the OutOfMemory command. */
export function asOomCommand(x: OomCommand | OomRequest): OomCommand {
  if (typeof x === 'object' && x !== null && !('type' in x && typeof x.type === 'string') && 'trigger' in x) {
    return { ...x, type: 'OutOfMemory' };
  }
  return x as OomCommand;
}

export function decide(command: OomCommand | OomRequest, s: OomState): OomEvent[] {
  const cmd = asOomCommand(command);
  if (cmd.type === 'Configure') {
    if (s.configured) throw precondition('oom.ALREADY_CONFIGURED', 'the oom aggregate of this machine is configured already');
    const c = cmd.config;
    if (!c || !isKernelProfile(c.profile)) throw invalid('oom.BAD_PROFILE', `unknown kernel profile ${String(c?.profile)}`);
    const policy = policyFrom(c.sysctl?.panic_on_oom ?? 0, c.sysctl?.oom_kill_allocating_task ?? 0);
    return [{
      type: 'OomInitialized',
      config: c,
      modelVersion: MODEL_VERSION,
      policy,
      totalRamPages: cmd.totalRamPages ?? Math.floor(c.ramBytes / PAGE_SIZE),
      totalSwapPages: cmd.totalSwapPages ?? Math.floor(c.swapBytes / PAGE_SIZE),
    }];
  }
  if (!s.configured) throw precondition('oom.NOT_CONFIGURED', `${cmd.type} before Configure`);
  if (s.panicked) throw precondition('oom.PANICKED', 'the machine panicked on an OOM: it decides nothing more');
  switch (cmd.type) {
    case 'SetPolicy': {
      const policy = policyFrom(cmd.panicOnOom ?? s.policy.panicOnOom, cmd.oomKillAllocatingTask ?? s.policy.oomKillAllocatingTask);
      return [{ type: 'PolicySet', policy, sysctl: null }];
    }
    case 'SetSysctl':
      return [setSysctl(cmd.name, cmd.value, s)];
    case 'EnableUserspaceKiller':
      if (cmd.kind !== 'earlyoom' && cmd.kind !== 'systemd-oomd') throw invalid('oom.BAD_OPTIONS', `unknown userspace killer ${String(cmd.kind)}`);
      return [{ type: 'UserspaceKillerEnabled', options: normalizeKillerOptions(cmd.kind, cmd.options as Readonly<Record<string, unknown>> | undefined) }];
    case 'DisableUserspaceKiller': {
      const on = cmd.kind === 'earlyoom' ? s.earlyoom !== null : s.oomd !== null;
      return on ? [{ type: 'UserspaceKillerDisabled', kind: cmd.kind }] : [];
    }
    case 'OutOfMemory':
      return [decideOutOfMemory(cmd, {
        profile: s.profile,
        modelVersion: s.modelVersion,
        policy: s.policy,
        killSeq: s.killSeq,
        victims: s.victims,
        totalRamPages: s.totalRamPages,
        totalSwapPages: s.totalSwapPages,
      })];
    case 'Tick': {
      validateTick(cmd);
      const events = runReaper(s, cmd);
      if (s.earlyoom !== null && (s.earlyoom.nextPollNs < 0 || cmd.nowNs >= s.earlyoom.nextPollNs)) {
        events.push(...earlyoomPoll(s.earlyoom, cmd, s.profile));
      }
      if (s.oomd !== null && (s.oomd.nextPollNs < 0 || cmd.nowNs >= s.oomd.nextPollNs)) {
        events.push(...oomdPoll(s.oomd, cmd));
      }
      return events;
    }
    case 'VictimExited':
      return s.victims.some((v) => v.pid === cmd.pid) ? [{ type: 'VictimExited', pid: cmd.pid }] : [];
    case 'VictimReaped': {
      const v = s.victims.find((x) => x.pid === cmd.pid);
      if (v === undefined) throw notFound('oom.NO_SUCH_VICTIM', `pid ${cmd.pid} is not an OOM victim of this machine`);
      return v.oomSkip ? [] : [{ type: 'VictimReaped', pid: cmd.pid }];
    }
    default:
      return unreachable(cmd, 'oom command');
  }
}

function policyFrom(panicOnOom: number, oomKillAllocatingTask: number): OomPolicy {
  if (panicOnOom !== 0 && panicOnOom !== 1 && panicOnOom !== 2) throw invalid('oom.BAD_SYSCTL', `panic_on_oom is 0, 1 or 2, got ${panicOnOom}`);
  if (oomKillAllocatingTask !== 0 && oomKillAllocatingTask !== 1) throw invalid('oom.BAD_SYSCTL', `oom_kill_allocating_task is 0 or 1, got ${oomKillAllocatingTask}`);
  return { panicOnOom, oomKillAllocatingTask };
}

/** A write to /proc/sys/vm/<name>, as the kernel's handler takes it. */
function setSysctl(name: string, value: number, s: OomState): OomEvent {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw invalid('oom.BAD_SYSCTL', `${name}: ${value} is not an int`);
  if (name === 'panic_on_oom') {
    if (s.profile === 'linux-2.6.18') {
      // proc_dointvec: any int; out_of_memory() only asks "if (sysctl_panic_on_oom)".
      return { type: 'PolicySet', policy: { ...s.policy, panicOnOom: value === 0 ? 0 : value === 2 ? 2 : 1 }, sysctl: 'panic_on_oom' };
    }
    // proc_dointvec_minmax with extra1 = 0, extra2 = 2: -EINVAL outside.
    if (value < 0 || value > 2) throw invalid('oom.BAD_SYSCTL', `panic_on_oom: ${value} is outside 0..2 (EINVAL)`);
    return { type: 'PolicySet', policy: { ...s.policy, panicOnOom: value as 0 | 1 | 2 }, sysctl: 'panic_on_oom' };
  }
  if (name === 'oom_kill_allocating_task') {
    if (s.profile === 'linux-2.6.18') throw notFound('oom.NO_SUCH_SYSCTL', '/proc/sys/vm/oom_kill_allocating_task appeared in 2.6.24 (ENOENT on linux-2.6.18)');
    // proc_dointvec: any int; the kernel tests it for non-zero.
    return { type: 'PolicySet', policy: { ...s.policy, oomKillAllocatingTask: value === 0 ? 0 : 1 }, sysctl: 'oom_kill_allocating_task' };
  }
  throw notFound('oom.NO_SUCH_SYSCTL', `/proc/sys/vm/${name} is not an OOM sysctl`);
}

function validateTick(t: Extract<OomCommand, { type: 'Tick' }>): void {
  const ok = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!ok(t.nowNs)) throw invalid('oom.BAD_TICK', 'Tick: nowNs is not a time');
  const m = t.meminfo;
  if (!m || !ok(m.memTotalKb) || !ok(m.memAvailableKb) || !ok(m.swapTotalKb) || !ok(m.swapFreeKb)) throw invalid('oom.BAD_TICK', 'Tick: meminfo needs memTotalKb, memAvailableKb, swapTotalKb, swapFreeKb');
  if (!Array.isArray(t.tasks) || !Array.isArray(t.cgroups)) throw invalid('oom.BAD_TICK', 'Tick: tasks and cgroups are lists');
}
