// The /proc files vma owns: /proc/<pid>/{status,maps,smaps,smaps_rollup,stat,oom_score_adj,
// oom_adj,oom_score} and /proc/sys/vm/*. oom_score is badness of the machine's kernel profile
// over vma's own task list: the same pure function the oom service decides with.
// /proc/sys/vm/min_free_kbytes not yet written is frames' (readVmaProcNow asks it).
import { notFound } from '@mmsim/kernel';
import { scoresTable } from '@mmsim/kernel/oom';
import { renderMaps, renderOomAdj, renderOomScoreAdj, renderSmapsRollup, renderStat, renderStatus } from '@mmsim/kernel/procfs/pid';
import { oomTasks, taskOf, type VmState } from '@mmsim/kernel/vm';
import { requireMachine } from './queries.js';
import { SYSCTL_NAMES, sysctlKept, sysctlNow, type SysctlName } from './sysctl.js';
import { renderSmaps } from './smaps.js';
import type { AggregateHost, AskFn } from '@mmsim/host';
import type { MachineRefLike } from '@mmsim/grpc';
import type { VmCommand, VmEvent } from '@mmsim/kernel/vm';

/** "/proc/42/status", "42/status", "proc/sys/vm/x"... -> the part after /proc/. */
export const procRelative = (path: string): string => path.trim().replace(/^\/+/, '').replace(/^proc\//, '');

export function readVmaProc(s: VmState, machine: string, path: string): string | undefined {
  const rel = procRelative(path);
  const sys = /^sys\/vm\/([a-z_]+)$/.exec(rel);
  if (sys) {
    requireMachine(s, machine);
    const name = sys[1];
    if (!(SYSCTL_NAMES as string[]).includes(name)) throw notFound('vma.NO_SUCH_FILE', `/proc/sys/vm/${name} is not modelled (${SYSCTL_NAMES.join(', ')})`);
    return `${sysctlKept(s, name as SysctlName) ?? -1}\n`;
  }
  const m = /^(\d+|self)\/(status|maps|smaps|smaps_rollup|stat|oom_score_adj|oom_adj|oom_score)$/.exec(rel);
  if (!m) return undefined;
  const mach = requireMachine(s, machine);
  const pid = Number(m[1]);
  const t = taskOf(s, pid);
  if (!t || t.state === 'dead') throw notFound('vma.NO_SUCH_PID', `/proc/${m[1]}: no such process`);
  switch (m[2]) {
    case 'status':
      return renderStatus(s, pid);
    case 'maps':
      return renderMaps(s, pid);
    case 'smaps':
      return renderSmaps(s, pid);
    case 'smaps_rollup':
      return renderSmapsRollup(s, pid);
    case 'stat':
      return renderStat(s, pid);
    case 'oom_score_adj':
      return renderOomScoreAdj(s, pid);
    case 'oom_adj':
      return renderOomAdj(s, pid);
    case 'oom_score': {
      const rows = scoresTable(oomTasks(s), mach.totals.totalRamPages + mach.totals.totalSwapPages, mach.profile, s.sc.clockNs);
      return `${rows.find((r) => r.pid === t.tgid)?.oomScore ?? 0}\n`;
    }
  }
  return undefined;
}

/** readVmaProc, with the sysctls only frames knows (min_free_kbytes never written) asked of frames. */
export async function readVmaProcNow(host: AggregateHost<VmCommand, VmEvent, VmState>, ask: AskFn, m: MachineRefLike, path: string): Promise<string | undefined> {
  const sys = /^sys\/vm\/([a-z_]+)$/.exec(procRelative(path));
  if (sys && (SYSCTL_NAMES as string[]).includes(sys[1])) {
    host.query(m, (s) => requireMachine(s, m.machine));
    return `${await sysctlNow(host, ask, m, sys[1] as SysctlName)}\n`;
  }
  return host.query(m, (s) => readVmaProc(s, m.machine, path));
}
