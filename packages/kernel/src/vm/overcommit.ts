// Overcommit accounting: mm/util.c __vm_enough_memory(), vm_commit_limit(), and the reserves of
// mm/mmap.c init_admin_reserve()/init_user_reserve(). Committed_AS (vm_committed_as) is charged
// whatever the mode; a refused request is uncharged again.
import { cdiv, type KernelProfile } from '../common/index.js';
import type { FramesTotals } from '../contracts/frames.js';
import type { VmSysctls } from '../machine/config.js';
import type { VmTotals } from './types.js';

const KB_PER_PAGE = 4;

/** vm_commit_limit(), pages: overcommit_kbytes if set, else (RAM - hugetlb) * ratio / 100; plus swap. */
export function commitLimitPages(profile: KernelProfile, sysctl: VmSysctls, totals: VmTotals): number {
  let allowed: number;
  if (profile !== 'linux-2.6.18' && sysctl.overcommit_kbytes) allowed = Math.floor(sysctl.overcommit_kbytes / KB_PER_PAGE);
  else allowed = Math.floor(((totals.totalRamPages - totals.hugetlbPages) * sysctl.overcommit_ratio) / 100);
  return allowed + totals.totalSwapPages;
}

/** mm/util.c init_admin_reserve(): min(free / 32, 8 MiB), kB. */
export const initAdminReserveKbytes = (freePages: number): number => Math.min(Math.floor((freePages * KB_PER_PAGE) / 32), 8192);
/** mm/util.c init_user_reserve(): min(free / 32, 128 MiB), kB. */
export const initUserReserveKbytes = (freePages: number): number => Math.min(Math.floor((freePages * KB_PER_PAGE) / 32), 131072);

export interface EnoughMemoryInput {
  readonly profile: KernelProfile;
  readonly sysctl: VmSysctls;
  readonly totals: VmTotals;
  readonly adminReserveKbytes: number;
  readonly userReserveKbytes: number;
  /** vm_committed_as before this request, pages. */
  readonly committed: number;
  /** The requesting mm's total_vm (pages); null for a request without an mm. */
  readonly totalVm: number | null;
  readonly pages: number;
  readonly capSysAdmin: boolean;
  /** Live figures; only the 2.6.18 heuristic (mode 0) reads them. */
  readonly live?: FramesTotals;
}

/** Does this request need frames' live figures (the pre-5.2 heuristic)? */
export const needsLiveTotals = (profile: KernelProfile, sysctl: VmSysctls): boolean =>
  profile === 'linux-2.6.18' && sysctl.overcommit_memory === 0;

/** __vm_enough_memory(): may `pages` more be committed? (The caller charges them when true.) */
export function vmEnoughMemory(inp: EnoughMemoryInput): boolean {
  const { profile, sysctl, totals, pages } = inp;
  const mode = sysctl.overcommit_memory;
  if (mode === 1) return true;
  if (mode === 0) {
    if (profile === 'linux-2.6.18') return guess2618(inp);
    // Since 5.2 the heuristic only refuses a single request larger than RAM + swap.
    return !(pages > totals.totalRamPages + totals.totalSwapPages);
  }
  const committedAfter = inp.committed + pages;
  if (profile === 'linux-2.6.18') {
    // mm/mmap.c (2.6.18): 3% of RAM kept for root, and 3% of this process's size for others.
    let allowed = Math.floor(((totals.totalRamPages - totals.hugetlbPages) * sysctl.overcommit_ratio) / 100);
    if (!inp.capSysAdmin) allowed -= Math.floor(allowed / 32);
    allowed += totals.totalSwapPages;
    if (inp.totalVm !== null) allowed -= Math.floor(inp.totalVm / 32);
    return committedAfter < allowed;
  }
  let allowed = commitLimitPages(profile, sysctl, totals);
  if (!inp.capSysAdmin) allowed -= Math.floor(inp.adminReserveKbytes / KB_PER_PAGE);
  if (inp.totalVm !== null) allowed -= Math.min(cdiv(inp.totalVm, 32), Math.floor(inp.userReserveKbytes / KB_PER_PAGE));
  return committedAfter < allowed;
}

/** 2.6.18 OVERCOMMIT_GUESS: page cache + free swap + reclaimable slab, then free pages above the reserve; 1/32 kept for root each time. */
function guess2618(inp: EnoughMemoryInput): boolean {
  const live = inp.live;
  if (!live) throw new Error('overcommit: the 2.6.18 heuristic needs live frames totals');
  let free = live.filePages + live.freeSwapPages + live.sReclaimablePages;
  if (!inp.capSysAdmin) free -= Math.floor(free / 32);
  if (free > inp.pages) return true;
  let n = live.freePages;
  if (n <= live.totalReservePages) return false;
  n -= live.totalReservePages;
  if (!inp.capSysAdmin) n -= Math.floor(n / 32);
  free += n;
  return free > inp.pages;
}
