// The kernel's printk lines around an OOM kill. The "Killed process" line is the kernel's
// format exactly (mm/oom_kill.c __oom_kill_process()); the header lines keep the kernel's
// wording, with what the model knows in place of what it does not (gfp flags as vm named them).
import type { KilledTask } from './types.js';

/** K(x): pages to kB. */
const K = (pages: number): number => pages * 4;

/**
 * "%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB,
 * UID:%u pgtables:%lukB oom_score_adj:%hd" (6.18). pgtables: mm_pgtables_bytes(mm) >> 10.
 */
export function killedProcessLine(message: string, k: KilledTask): string {
  return (
    `${message}: Killed process ${k.pid} (${k.name}) total-vm:${K(k.totalVm)}kB, anon-rss:${K(k.rssAnon)}kB, ` +
    `file-rss:${K(k.rssFile)}kB, shmem-rss:${K(k.rssShmem)}kB, UID:${k.uid} pgtables:${Math.floor(k.pgtablesBytes / 1024)}kB ` +
    `oom_score_adj:${k.oomScoreAdj}`
  );
}

/** 2.6.18 __oom_kill_task(): "%s: Killed process %d (%s).\n" */
export const killedProcessLine2618 = (message: string, pid: number, name: string): string =>
  `${message}: Killed process ${pid} (${name}).`;

/** 2.6.18 oom_kill_process(): "Out of Memory: Kill process %d (%s) score %li and children.\n" */
export const killProcessLine2618 = (pid: number, name: string, score: number | string): string =>
  `Out of Memory: Kill process ${pid} (${name}) score ${score} and children.`;

/** 6.18 dump_header(): "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd" */
export const invokedLine = (comm: string, gfp: string, order: number, oomScoreAdj: number): string =>
  `${comm} invoked oom-killer: gfp_mask=${gfp}, order=${order}, oom_score_adj=${oomScoreAdj}`;

/** 2.6.18 out_of_memory(): "oom-killer: gfp_mask=0x%x, order=%d" */
export const invokedLine2618 = (gfp: string, order: number): string => `oom-killer: gfp_mask=${gfp}, order=${order}`;
