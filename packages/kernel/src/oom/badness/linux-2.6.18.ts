// mm/oom_kill.c: badness(), Linux 2.6.18 (the classic heuristic the seed article describes).
// Unsigned long arithmetic in pages; every division truncates. /proc/<pid>/oom_score printed
// this raw value.
import { cdiv, intSqrt, NS_PER_SEC } from '../../common/index.js';
import type { OomTask } from '../../contracts/oom.js';
import type { Badness2618Factors } from '../types.js';

/**
 * CONFIG_HZ of the modelled 2.6.18 kernel (RHEL 5 shipped HZ=1000) and its SHIFT_HZ
 * (include/linux/timex.h: HZ 1000 -> 10). With HZ=250 (SHIFT_HZ 8) cpu_time comes out the
 * same: jiffies >> (SHIFT_HZ + 3) is about 8.2 s of CPU either way.
 */
export const HZ_2618 = 1000;
export const SHIFT_HZ_2618 = 10;
/** /proc/<pid>/stat counts clock ticks of USER_HZ; OomTask.utimeTicks/stimeTicks are in them. */
export const USER_HZ = 100;

export interface Badness2618Context {
  /** Every task by pid, to read the children's mm. */
  readonly byPid: ReadonlyMap<number, OomTask>;
  /** Simulated time since boot: uptime.tv_sec = floor(nowNs / 1e9). */
  readonly nowNs: number;
}

export interface Evaluated2618 {
  /** null: the task has no mm (badness() returns 0 at once). */
  readonly factors: Badness2618Factors | null;
  readonly points: number;
}

// mm/oom_kill.c (2.6.18): badness(p, uptime)
export function badness2618(t: OomTask, ctx: Badness2618Context): Evaluated2618 {
  const mm = t.mm;
  if (mm === null) return { factors: null, points: 0 };
  // Half the total_vm (+1) of each child that has its own mm: a forking server gets the blame
  // for its children, but a single big child still scores more than its parent.
  let childrenPoints = 0;
  let childrenCounted = 0;
  for (const cpid of t.children) {
    const c = ctx.byPid.get(cpid);
    if (c === undefined || c.mm === null || c.mm.mmId === mm.mmId) continue;
    childrenPoints += cdiv(c.mm.totalVm, 2) + 1;
    childrenCounted++;
  }
  // cputime_to_jiffies(utime) + cputime_to_jiffies(stime), >> (SHIFT_HZ + 3)
  const jiffies = (t.utimeTicks + t.stimeTicks) * (HZ_2618 / USER_HZ);
  const cpuTime = Math.floor(jiffies / 2 ** (SHIFT_HZ_2618 + 3));
  const uptime = Math.floor(ctx.nowNs / NS_PER_SEC);
  const start = Math.floor(t.startTimeNs / NS_PER_SEC);
  const runTime = uptime >= start ? Math.floor((uptime - start) / 2 ** 10) : 0;
  const factors: Badness2618Factors = {
    formula: 'linux-2.6.18',
    totalVm: mm.totalVm,
    childrenPoints,
    childrenCounted,
    cpuTime,
    cpuDivisor: intSqrt(cpuTime),
    runTime,
    runDivisor: intSqrt(intSqrt(runTime)),
    niceDoubled: t.nice > 0,
    adminQuartered: t.capSysAdmin || t.uid === 0 || t.euid === 0,
    rawioQuartered: t.capSysRawio,
    oomAdj: t.oomAdj,
  };
  return { factors, points: points2618(factors) };
}

/** The arithmetic of badness() over its factors, in the kernel's order. */
export function points2618(f: Badness2618Factors): number {
  let points = f.totalVm + f.childrenPoints;
  if (f.cpuDivisor) points = cdiv(points, f.cpuDivisor);
  if (f.runDivisor) points = cdiv(points, f.runDivisor);
  if (f.niceDoubled) points *= 2;
  if (f.adminQuartered) points = cdiv(points, 4);
  if (f.rawioQuartered) points = cdiv(points, 4);
  // points <<= oomkilladj / points >>= -oomkilladj on an unsigned long: no 32-bit JS shifts.
  if (f.oomAdj > 0) points = points * 2 ** f.oomAdj;
  else if (f.oomAdj < 0) points = Math.floor(points / 2 ** -f.oomAdj);
  return points;
}
