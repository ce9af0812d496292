import { describe, expect, it } from 'vitest';
import { lowmemReserve, setupWatermarks, totalReservePages } from '../frames/watermarks.js';
import { GUEST_6_18_MEMINFO, GUEST_6_18_ZONES } from './fixtures/guest-6.18.js';
import { renderMeminfo, siMemAvailable, type MeminfoInput } from './meminfo.js';

const kb = (text: string): Record<string, number> =>
  Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), Number(l.slice(l.indexOf(':') + 1).trim().split(/\s+/)[0])]));

const guest = kb(GUEST_6_18_MEMINFO);
const p = (label: string): number => guest[label] / 4;

/** The recorded guest's figures as a MeminfoInput; MemAvailable is left to si_mem_available(). */
function guestInput(): MeminfoInput {
  const zones = GUEST_6_18_ZONES;
  const wm = zones.map((z) => ({ min: z.min, low: z.low, high: z.high, promo: z.high }));
  const pages = zones.map((z) => z.managed);
  return {
    memTotal: p('MemTotal'), memFree: p('MemFree'),
    totalReserve: totalReservePages(pages, wm, zones.map((z) => [...z.protection])),
    lowWatermarks: zones.reduce((t, z) => t + z.low, 0),
    buffers: p('Buffers'), filePages: p('Cached') + p('SwapCached') + p('Buffers'), swapCached: p('SwapCached'),
    activeAnon: p('Active(anon)'), inactiveAnon: p('Inactive(anon)'), activeFile: p('Active(file)'), inactiveFile: p('Inactive(file)'),
    unevictable: p('Unevictable'), mlocked: p('Mlocked'), highTotal: 0, highFree: 0,
    swapTotal: p('SwapTotal'), swapFree: p('SwapFree'), zswap: p('Zswap'), zswapped: p('Zswapped'),
    dirty: p('Dirty'), writeback: p('Writeback'), anonPages: p('AnonPages'), mapped: p('Mapped'), shmem: p('Shmem'),
    kernelMiscReclaimable: p('KReclaimable') - p('SReclaimable'), slabReclaimable: p('SReclaimable'), slabUnreclaimable: p('SUnreclaim'),
    kernelStackKiB: guest.KernelStack, pageTables: p('PageTables'), secPageTables: p('SecPageTables'),
    nfsUnstable: p('NFS_Unstable'), bounce: p('Bounce'), writebackTmp: p('WritebackTmp'),
    commitLimit: p('CommitLimit'), committedAs: p('Committed_AS'),
    vmallocTotalKiB: guest.VmallocTotal, vmallocUsedKiB: guest.VmallocUsed, vmallocChunkKiB: guest.VmallocChunk, percpuKiB: guest.Percpu,
    anonHugePages: p('AnonHugePages'), shmemHugePages: p('ShmemHugePages'), shmemPmdMapped: p('ShmemPmdMapped'),
    fileHugePages: p('FileHugePages'), filePmdMapped: p('FilePmdMapped'), balloon: p('Balloon'),
    hugePagesTotal: guest.HugePages_Total, hugePagesFree: guest.HugePages_Free, hugePagesRsvd: guest.HugePages_Rsvd,
    hugePagesSurp: guest.HugePages_Surp, hugepageSizeKiB: guest.Hugepagesize, hugetlbKiB: guest.Hugetlb,
    directMap4kKiB: guest.DirectMap4k, directMap2MKiB: guest.DirectMap2M, directMap1GKiB: 0,
  };
}

describe('/proc/meminfo, linux-6.18', () => {
  it('reproduces a real 6.18 guest\'s file byte for byte, MemAvailable included', () => {
    const out = renderMeminfo(guestInput(), 'linux-6.18');
    const lines = out.split('\n');
    // That guest has no 1 GiB direct mappings (no gbpages), so it prints no DirectMap1G line.
    expect(lines.slice(0, 53).join('\n') + '\n').toBe(GUEST_6_18_MEMINFO);
    expect(lines[53]).toBe('DirectMap1G:           0 kB');
  });

  it('si_mem_available on that guest: free - reserve + cache and slab minus what must stay', () => {
    const i = guestInput();
    // From its zoneinfo: low watermarks 41 + 8485 + 12592 + 32 + 0; reserve 3840 + (4480 + 10182) + 15110.
    expect(i.lowWatermarks).toBe(21150);
    expect(i.totalReserve).toBe(3840 + 14662 + 15110);
    expect(siMemAvailable(i) * 4).toBe(guest.MemAvailable);
  });

  it('prints the 54 fields of a 6.18 x86-64 kernel in order', () => {
    const labels = renderMeminfo(guestInput(), 'linux-6.18').trim().split('\n').map((l) => l.slice(0, l.indexOf(':')));
    expect(labels).toEqual([
      'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached', 'Active', 'Inactive', 'Active(anon)',
      'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Unevictable', 'Mlocked', 'SwapTotal', 'SwapFree', 'Zswap',
      'Zswapped', 'Dirty', 'Writeback', 'AnonPages', 'Mapped', 'Shmem', 'KReclaimable', 'Slab', 'SReclaimable',
      'SUnreclaim', 'KernelStack', 'PageTables', 'SecPageTables', 'NFS_Unstable', 'Bounce', 'WritebackTmp', 'CommitLimit',
      'Committed_AS', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk', 'Percpu', 'AnonHugePages', 'ShmemHugePages',
      'ShmemPmdMapped', 'FileHugePages', 'FilePmdMapped', 'Balloon', 'HugePages_Total', 'HugePages_Free',
      'HugePages_Rsvd', 'HugePages_Surp', 'Hugepagesize', 'Hugetlb', 'DirectMap4k', 'DirectMap2M', 'DirectMap1G',
    ]);
  });

  it('MemAvailable is never negative; Cached never below 0', () => {
    const i = { ...guestInput(), memFree: 10, totalReserve: 100000, activeFile: 0, inactiveFile: 0, slabReclaimable: 0, kernelMiscReclaimable: 0 };
    expect(siMemAvailable(i)).toBe(0);
    const out = renderMeminfo({ ...i, filePages: 1, buffers: 5, swapCached: 0 }, 'linux-6.18');
    expect(out).toContain('MemAvailable:          0 kB\n');
    expect(out).toContain('Cached:                0 kB\n');
  });

  it('a value wider than 8 columns pushes the line right, as %8lu does', () => {
    expect(renderMeminfo({ ...guestInput(), memTotal: 300_000_000 }, 'linux-6.18')).toContain('MemTotal:       1200000000 kB\n');
  });
});

describe('/proc/meminfo, linux-2.6.18', () => {
  // fs/proc/proc_misc.c meminfo_read_proc() of 2.6.18 ("MemTotal:     %8lu kB\n"...) and the
  // 2.6.18 hugetlb_report_meminfo() ("HugePages_Total: %5lu\n"..., "Hugepagesize:    %5lu kB\n").
  const out = renderMeminfo(guestInput(), 'linux-2.6.18');

  it('has its own fields, HighTotal..LowFree included, no MemAvailable', () => {
    expect(out.trim().split('\n').map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      'MemTotal', 'MemFree', 'Buffers', 'Cached', 'SwapCached', 'Active', 'Inactive', 'HighTotal', 'HighFree', 'LowTotal',
      'LowFree', 'SwapTotal', 'SwapFree', 'Dirty', 'Writeback', 'AnonPages', 'Mapped', 'Slab', 'PageTables', 'NFS_Unstable',
      'Bounce', 'CommitLimit', 'Committed_AS', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk', 'HugePages_Total',
      'HugePages_Free', 'HugePages_Rsvd', 'Hugepagesize',
    ]);
  });

  it('pads labels to 14 columns; LowTotal is all RAM on x86-64; hugepages in %5lu', () => {
    const lines = out.split('\n');
    expect(lines[0]).toBe('MemTotal:     24683620 kB');
    expect(lines[9]).toBe('LowTotal:     24683620 kB');
    expect(lines[10]).toBe('LowFree:      23095240 kB');
    expect(lines[7]).toBe('HighTotal:           0 kB');
    expect(lines[17]).toBe('Slab:           139004 kB');
    expect(lines[26]).toBe('HugePages_Total:     0');
    expect(lines[29]).toBe('Hugepagesize:     2048 kB');
  });
});
