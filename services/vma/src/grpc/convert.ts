// proto <-> vm model conversions used by the vma adapters.
import { big } from '@mmsim/grpc';
import type { Task, VmState } from '@mmsim/kernel/vm';
import { mmOf } from '@mmsim/kernel/vm';
import type { TaskInfo } from '@mmsim/proto';
import { describeExit } from '../queries.js';

const kb = (pages: number): bigint => big(pages * 4);

/** Live threads per thread group, counted once for a whole listing. */
export function threadCounts(s: VmState): Map<number, number> {
  const n = new Map<number, number>();
  for (const t of s.tasks.values()) if (t.state !== 'dead' && t.state !== 'zombie') n.set(t.tgid, (n.get(t.tgid) ?? 0) + 1);
  return n;
}

export function taskInfo(s: VmState, t: Task, threads: ReadonlyMap<number, number>): TaskInfo {
  const mm = mmOf(s, t.pid);
  const cg = s.cgroups.get(t.memcg);
  return {
    pid: t.pid,
    tgid: t.tgid,
    ppid: t.ppid,
    name: t.name,
    state: t.state === 'running' ? (t.isKthread ? 'I' : 'S') : t.state === 'exiting' ? 'D' : t.state === 'zombie' ? 'Z' : 'X',
    uid: t.uid,
    nice: t.nice,
    oomScoreAdj: t.oomScoreAdj,
    kernelThread: t.isKthread,
    vmSizeKb: kb(mm?.totalVm ?? 0),
    vmRssKb: kb(mm ? mm.rssAnon + mm.rssFile + mm.rssShmem : 0),
    rssAnonKb: kb(mm?.rssAnon ?? 0),
    rssFileKb: kb(mm?.rssFile ?? 0),
    rssShmemKb: kb(mm?.rssShmem ?? 0),
    vmSwapKb: kb(mm?.swapEnts ?? 0),
    vmPteKb: kb(mm ? mm.ptePages + mm.pmdPages + mm.pudPages : 0),
    vmPeakKb: kb(mm?.hiwaterVm ?? 0),
    vmHwmKb: kb(mm?.hiwaterRss ?? 0),
    threads: Math.max(1, threads.get(t.tgid) ?? 0),
    cgroup: cg?.path ?? '/',
    startTimeNs: big(t.startTimeNs),
    minFlt: big(t.minflt),
    majFlt: big(t.majflt),
    exit: describeExit(t),
  };
}
