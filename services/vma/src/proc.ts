// The /proc files vma owns: /proc/<pid>/{status,maps,smaps_rollup,stat,oom_score_adj,oom_adj,
// oom_score} and /proc/sys/vm/*. oom_score is badness of the machine's kernel profile over
// vma's own task list: the same pure function the oom service decides with.
import { notFound } from '@mmsim/kernel';
import { scoresTable } from '@mmsim/kernel/oom';
import { renderMaps, renderOomAdj, renderOomScoreAdj, renderSmapsRollup, renderStat, renderStatus } from '@mmsim/kernel/procfs/pid';
import { oomTasks, taskOf, type VmState } from '@mmsim/kernel/vm';
import { requireMachine } from './queries.js';
import { SYSCTL_NAMES } from './sysctl.js';

/** "/proc/42/status", "42/status", "proc/sys/vm/x"... -> the part after /proc/. */
export const procRelative = (path: string): string => path.trim().replace(/^\/+/, '').replace(/^proc\//, '');

export function readVmaProc(s: VmState, machine: string, path: string): string | undefined {
  const rel = procRelative(path);
  const sys = /^sys\/vm\/([a-z_]+)$/.exec(rel);
  if (sys) {
    requireMachine(s, machine);
    const name = sys[1];
    if (!(SYSCTL_NAMES as string[]).includes(name)) throw notFound('vma.NO_SUCH_FILE', `/proc/sys/vm/${name} is not modelled (${SYSCTL_NAMES.join(', ')})`);
    const v = name === 'admin_reserve_kbytes' ? s.sc.adminReserveKbytes : name === 'user_reserve_kbytes' ? s.sc.userReserveKbytes : s.sc.sysctl[name as keyof typeof s.sc.sysctl];
    return `${v}\n`;
  }
  const m = /^(\d+|self)\/(status|maps|smaps_rollup|stat|oom_score_adj|oom_adj|oom_score)$/.exec(rel);
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
