// mm/oom_kill.c badness() of Linux 2.6.18, by hand from the source:
//   points = mm->total_vm + sum(child->mm->total_vm / 2 + 1) for children with their own mm
//   cpu_time = (utime + stime jiffies) >> (SHIFT_HZ + 3)   (HZ 1000: >> 13; jiffies = USER_HZ ticks * 10)
//   run_time = (uptime - start_time.tv_sec) >> 10
//   if (int_sqrt(cpu_time)) points /= int_sqrt(cpu_time)
//   if (int_sqrt(int_sqrt(run_time))) points /= int_sqrt(int_sqrt(run_time))
//   nice > 0: points *= 2;  CAP_SYS_ADMIN || uid 0 || euid 0: points /= 4;  CAP_SYS_RAWIO: points /= 4
//   oomkilladj > 0: points <<= adj;  < 0: points >>= -adj
import { describe, expect, it } from 'vitest';
import type { OomTask } from '../../contracts/oom.js';
import { oomTask, type OomTaskInit } from '../task-builder.js';
import { badness2618 } from './linux-2.6.18.js';

const S = 1_000_000_000; // ns per second

function score(init: OomTaskInit, others: OomTask[] = [], nowNs = 0): number {
  const t = oomTask(init);
  const byPid = new Map<number, OomTask>([[t.pid, t], ...others.map((o) => [o.pid, o] as [number, OomTask])]);
  return badness2618(t, { byPid, nowNs }).points;
}

const base = { pid: 100, uid: 1000, mm: { totalVm: 1000 } } as const;

describe('linux-2.6.18 badness(), one factor at a time', () => {
  it('starts from total_vm (pages of every VMA, not RSS)', () => {
    expect(score({ ...base, mm: { totalVm: 1000, rssAnon: 5 } })).toBe(1000);
  });

  it('adds half of each child with its own mm, plus one', () => {
    // 1000 + (501 / 2 + 1 = 251) + (100 / 2 + 1 = 51) = 1302; the thread sharing the mm and the
    // zombie without mm add nothing.
    const kids = [
      oomTask({ pid: 201, mm: { totalVm: 501 } }),
      oomTask({ pid: 202, mm: { totalVm: 100 } }),
      oomTask({ pid: 203, mm: { mmId: 100, totalVm: 1000 } }),
      oomTask({ pid: 204, mm: null }),
    ];
    expect(score({ ...base, children: [201, 202, 203, 204] }, kids)).toBe(1302);
  });

  it('divides by int_sqrt of cpu_time', () => {
    // 8000 ticks = 80000 jiffies >> 13 = 9; int_sqrt(9) = 3; 1000 / 3 = 333
    expect(score({ ...base, utimeTicks: 5000, stimeTicks: 3000 })).toBe(333);
    // 2000 ticks = 20000 jiffies >> 13 = 2; int_sqrt(2) = 1: no change
    expect(score({ ...base, utimeTicks: 2000 })).toBe(1000);
    // 800 ticks = 8000 jiffies >> 13 = 0: no division
    expect(score({ ...base, utimeTicks: 800 })).toBe(1000);
  });

  it('divides by the fourth root of run_time', () => {
    // uptime 20000 s, started at 0: 20000 >> 10 = 19; int_sqrt(19) = 4; int_sqrt(4) = 2 -> 500
    expect(score(base, [], 20_000 * S)).toBe(500);
    // 1023 s: 1023 >> 10 = 0: no division
    expect(score(base, [], 1023 * S)).toBe(1000);
    // 256 * 1024 s: run_time 256, int_sqrt 16, int_sqrt 4 -> 250
    expect(score(base, [], 256 * 1024 * S)).toBe(250);
    // a start time after the uptime counts as run_time 0
    expect(score({ ...base, startTimeNs: 30_000 * S }, [], 20_000 * S)).toBe(1000);
  });

  it('doubles a niced task (nice > 0 only)', () => {
    expect(score({ ...base, nice: 5 })).toBe(2000);
    expect(score({ ...base, nice: -5 })).toBe(1000);
  });

  it('quarters root: uid 0, euid 0 or CAP_SYS_ADMIN (2.6.18)', () => {
    expect(score({ ...base, uid: 0, euid: 0 })).toBe(250);
    expect(score({ ...base, uid: 1000, euid: 0 })).toBe(250);
    expect(score({ ...base, capSysAdmin: true })).toBe(250);
    // CAP_SYS_RESOURCE counts only from 2.6.32 on
    expect(score({ ...base, capSysResource: true })).toBe(1000);
  });

  it('quarters CAP_SYS_RAWIO, on top of root', () => {
    expect(score({ ...base, capSysRawio: true })).toBe(250);
    // 1000 / 4 = 250; 250 / 4 = 62 (62.5 truncated)
    expect(score({ ...base, uid: 0, euid: 0, capSysRawio: true })).toBe(62);
  });

  it('shifts by oom_adj both ways', () => {
    expect(score({ ...base, oomAdj: 3 })).toBe(8000); // 1000 << 3
    expect(score({ ...base, oomAdj: -3 })).toBe(125); // 1000 >> 3
    expect(score({ ...base, oomAdj: -16 })).toBe(0); // 1000 >> 16
    expect(score({ ...base, oomAdj: 15 })).toBe(32_768_000); // 1000 << 15
    expect(score({ ...base, mm: { totalVm: 2 ** 40 }, oomAdj: 10 })).toBe(2 ** 50); // no 32-bit shift
  });

  it('OOM_DISABLE (-17) still has a /proc value: 1000 >> 17 = 0', () => {
    expect(score({ ...base, oomAdj: -17 })).toBe(0);
  });

  it('returns 0 for a task without mm', () => {
    expect(score({ pid: 7, isKthread: true, mm: null })).toBe(0);
  });

  it('combines every factor in the kernel order', () => {
    // total_vm 10000 + 2 children of 3000 (3000 / 2 + 1 = 1501 each) = 13002
    // cpu: 16384 ticks = 163840 jiffies >> 13 = 20; int_sqrt(20) = 4: 13002 / 4 = 3250
    // run: uptime 90000 s - start 1000 s = 89000 >> 10 = 86; int_sqrt(86) = 9; int_sqrt(9) = 3: 3250 / 3 = 1083
    // nice 10: 2166; uid 0: 2166 / 4 = 541; CAP_SYS_RAWIO: 541 / 4 = 135; oom_adj 2: 135 << 2 = 540
    const kids = [oomTask({ pid: 301, mm: { totalVm: 3000 } }), oomTask({ pid: 302, mm: { totalVm: 3000 } })];
    const points = score(
      {
        pid: 300,
        uid: 0,
        euid: 0,
        capSysRawio: true,
        nice: 10,
        oomAdj: 2,
        utimeTicks: 10_000,
        stimeTicks: 6384,
        startTimeNs: 1000 * S,
        children: [301, 302],
        mm: { totalVm: 10_000 },
      },
      kids,
      90_000 * S,
    );
    expect(points).toBe(540);
  });
});
