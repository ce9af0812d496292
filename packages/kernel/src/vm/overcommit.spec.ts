import { describe, expect, it } from 'vitest';
import { DEFAULT_SYSCTLS } from '../machine/config.js';
import { commitLimitPages, initAdminReserveKbytes, initUserReserveKbytes, vmEnoughMemory, type EnoughMemoryInput } from './overcommit.js';

// snapshot-a: MemTotal 24684084 kB (after the kernel's reservations), no swap.
const snapshotA = { totalRamPages: 24684084 / 4, totalSwapPages: 0, hugetlbPages: 0, freePagesAtBoot: 0 };

describe('CommitLimit (mm/util.c vm_commit_limit)', () => {
  it('is RAM * overcommit_ratio / 100 + swap: 12342040 kB for snapshot-a, as its kernel showed', () => {
    expect(commitLimitPages('linux-6.18', DEFAULT_SYSCTLS, snapshotA) * 4).toBe(12342040);
  });
  it('adds swap, uses overcommit_kbytes when set, subtracts hugetlb', () => {
    const t = { totalRamPages: 1000, totalSwapPages: 300, hugetlbPages: 100, freePagesAtBoot: 0 };
    expect(commitLimitPages('linux-6.18', DEFAULT_SYSCTLS, t)).toBe(450 + 300);
    expect(commitLimitPages('linux-6.18', { ...DEFAULT_SYSCTLS, overcommit_kbytes: 2000 }, t)).toBe(500 + 300);
    expect(commitLimitPages('linux-6.18', { ...DEFAULT_SYSCTLS, overcommit_ratio: 80 }, t)).toBe(720 + 300);
    // 2.6.18 had no overcommit_kbytes.
    expect(commitLimitPages('linux-2.6.18', { ...DEFAULT_SYSCTLS, overcommit_kbytes: 2000 }, t)).toBe(450 + 300);
  });
});

describe('the reserves (mm/util.c init_admin_reserve / init_user_reserve)', () => {
  it('are free/32, capped at 8 MiB and 128 MiB', () => {
    expect(initAdminReserveKbytes(1000)).toBe(125); // 4000 kB / 32
    expect(initUserReserveKbytes(1000)).toBe(125);
    expect(initAdminReserveKbytes(6_000_000)).toBe(8192);
    expect(initUserReserveKbytes(6_000_000)).toBe(131072);
    // snapshot-a's user_reserve_kbytes 100403: free was 3212896 kB at that boot.
    expect(initUserReserveKbytes(3212896 / 4)).toBe(100403);
  });
});

const base = (over: Partial<EnoughMemoryInput>): EnoughMemoryInput => ({
  profile: 'linux-6.18',
  sysctl: DEFAULT_SYSCTLS,
  totals: { totalRamPages: 1000, totalSwapPages: 200, hugetlbPages: 0, freePagesAtBoot: 1000 },
  adminReserveKbytes: 80, // 20 pages
  userReserveKbytes: 400, // 100 pages
  committed: 0,
  totalVm: 0,
  pages: 1,
  capSysAdmin: false,
  ...over,
});

describe('__vm_enough_memory', () => {
  it('mode 1 always agrees', () => {
    expect(vmEnoughMemory(base({ sysctl: { ...DEFAULT_SYSCTLS, overcommit_memory: 1 }, pages: 1e9 }))).toBe(true);
  });
  it('mode 0 (5.2+) refuses only a single request larger than RAM + swap, however much is committed', () => {
    expect(vmEnoughMemory(base({ pages: 1200, committed: 1e9 }))).toBe(true);
    expect(vmEnoughMemory(base({ pages: 1201 }))).toBe(false);
  });
  it('mode 2: committed + request < CommitLimit - admin reserve - min(total_vm/32, user reserve)', () => {
    const m2 = { ...DEFAULT_SYSCTLS, overcommit_memory: 2 as const };
    // CommitLimit 500 + 200 = 700; non-admin: - 20; total_vm 320: - 10 => allowed 670; must be < 670.
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 600, pages: 69, totalVm: 320 }))).toBe(true);
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 600, pages: 70, totalVm: 320 }))).toBe(false);
    // CAP_SYS_ADMIN keeps the admin reserve.
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 600, pages: 89, totalVm: 320, capSysAdmin: true }))).toBe(true);
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 600, pages: 90, totalVm: 320, capSysAdmin: true }))).toBe(false);
    // The user reserve caps the total_vm/32 share: total_vm 32000 -> min(1000, 100) = 100.
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 0, pages: 579, totalVm: 32000 }))).toBe(true);
    expect(vmEnoughMemory(base({ sysctl: m2, committed: 0, pages: 580, totalVm: 32000 }))).toBe(false);
  });
  it('2.6.18 mode 2: 1/32 of RAM*ratio kept for root, 1/32 of the process for others', () => {
    const m2 = { ...DEFAULT_SYSCTLS, overcommit_memory: 2 as const };
    // allowed = 500 - 500/32 (15) + 200 - 320/32 (10) = 675
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', sysctl: m2, pages: 674, totalVm: 320 }))).toBe(true);
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', sysctl: m2, pages: 675, totalVm: 320 }))).toBe(false);
  });
  it('2.6.18 mode 0: page cache + free swap + reclaimable slab, then free pages above the reserve, 1/32 kept for root each time', () => {
    const live = { totalRamPages: 1000, totalSwapPages: 200, freePages: 300, freeSwapPages: 64, filePages: 100, shmemPages: 0, sReclaimablePages: 0, totalReservePages: 44, hugetlbPages: 0 };
    // free = 164 - 5 = 159; +(300 - 44 = 256 - 8 = 248) = 407; must be > pages
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', live, pages: 158 }))).toBe(true);
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', live, pages: 406 }))).toBe(true);
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', live, pages: 407 }))).toBe(false);
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', live, pages: 419, capSysAdmin: true }))).toBe(true); // 164 + 256 = 420
    expect(vmEnoughMemory(base({ profile: 'linux-2.6.18', live, pages: 420, capSysAdmin: true }))).toBe(false);
  });
});
