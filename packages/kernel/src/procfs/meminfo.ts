// /proc/meminfo, rendered from plain figures (MeminfoInput), in the exact layout of each kernel
// profile. linux-6.18: fs/proc/meminfo.c meminfo_proc_show() + hugetlb_report_meminfo() +
// x86 arch_report_meminfo(): 54 lines, label and colon padded to 16 columns, value "%8lu kB"
// (wider values push the line right), HugePages_* as "%5lu" with no unit.
// linux-2.6.18: fs/proc/proc_misc.c meminfo_read_proc() (labels padded to 14, HighTotal..LowFree
// always printed) + the 2.6.18 hugetlb_report_meminfo() (no HugePages_Surp, no Hugetlb).
import { unreachable, type KernelProfile } from '../common/index.js';

/** Page counts (4 KiB pages) unless the name ends in KiB. */
export interface MeminfoInput {
  readonly memTotal: number;
  readonly memFree: number;
  /** totalreserve_pages and the sum of every zone's low watermark: si_mem_available() needs them. */
  readonly totalReserve: number;
  readonly lowWatermarks: number;
  /** Block-device page cache (Buffers). */
  readonly buffers: number;
  /** NR_FILE_PAGES: file, block-device, shmem and swap-cache pages. */
  readonly filePages: number;
  readonly swapCached: number;
  readonly activeAnon: number;
  readonly inactiveAnon: number;
  readonly activeFile: number;
  readonly inactiveFile: number;
  readonly unevictable: number;
  readonly mlocked: number;
  readonly highTotal: number;
  readonly highFree: number;
  readonly swapTotal: number;
  readonly swapFree: number;
  readonly zswap: number;
  readonly zswapped: number;
  readonly dirty: number;
  readonly writeback: number;
  readonly anonPages: number;
  readonly mapped: number;
  readonly shmem: number;
  readonly kernelMiscReclaimable: number;
  readonly slabReclaimable: number;
  readonly slabUnreclaimable: number;
  readonly kernelStackKiB: number;
  readonly pageTables: number;
  readonly secPageTables: number;
  readonly nfsUnstable: number;
  readonly bounce: number;
  readonly writebackTmp: number;
  readonly commitLimit: number;
  readonly committedAs: number;
  readonly vmallocTotalKiB: number;
  readonly vmallocUsedKiB: number;
  readonly vmallocChunkKiB: number;
  readonly percpuKiB: number;
  readonly anonHugePages: number;
  readonly shmemHugePages: number;
  readonly shmemPmdMapped: number;
  readonly fileHugePages: number;
  readonly filePmdMapped: number;
  readonly balloon: number;
  readonly hugePagesTotal: number;
  readonly hugePagesFree: number;
  readonly hugePagesRsvd: number;
  readonly hugePagesSurp: number;
  readonly hugepageSizeKiB: number;
  readonly hugetlbKiB: number;
  readonly directMap4kKiB: number;
  readonly directMap2MKiB: number;
  readonly directMap1GKiB: number;
}

const K = (pages: number): number => pages * 4;

/**
 * mm/show_mem.c si_mem_available(): free pages minus the reserve, plus the page cache and
 * reclaimable kernel memory that could go without swapping, keeping half of each (or the
 * low watermarks' worth, if less) as the part that must stay. In pages, never negative.
 */
export function siMemAvailable(i: MeminfoInput): number {
  let available = i.memFree - i.totalReserve;
  let pagecache = i.activeFile + i.inactiveFile;
  pagecache -= Math.min(Math.floor(pagecache / 2), i.lowWatermarks);
  available += pagecache;
  let reclaimable = i.slabReclaimable + i.kernelMiscReclaimable;
  reclaimable -= Math.min(Math.floor(reclaimable / 2), i.lowWatermarks);
  available += reclaimable;
  return available < 0 ? 0 : available;
}

/** Cached: NR_FILE_PAGES - swap cache - buffers, at least 0. */
export const cachedPages = (i: MeminfoInput): number => Math.max(0, i.filePages - i.swapCached - i.buffers);

/** `label` (with its colon) padded to `width`, then the value right-aligned in `digits`, then the unit. */
export function procLine(label: string, width: number, value: number, digits: number, unit: string): string {
  return `${label.padEnd(width)}${String(value).padStart(digits)}${unit}\n`;
}

type Line = readonly [label: string, kib: number];

function lines618(i: MeminfoInput): Line[] {
  return [
    ['MemTotal:', K(i.memTotal)], ['MemFree:', K(i.memFree)], ['MemAvailable:', K(siMemAvailable(i))],
    ['Buffers:', K(i.buffers)], ['Cached:', K(cachedPages(i))], ['SwapCached:', K(i.swapCached)],
    ['Active:', K(i.activeAnon + i.activeFile)], ['Inactive:', K(i.inactiveAnon + i.inactiveFile)],
    ['Active(anon):', K(i.activeAnon)], ['Inactive(anon):', K(i.inactiveAnon)],
    ['Active(file):', K(i.activeFile)], ['Inactive(file):', K(i.inactiveFile)],
    ['Unevictable:', K(i.unevictable)], ['Mlocked:', K(i.mlocked)],
    ['SwapTotal:', K(i.swapTotal)], ['SwapFree:', K(i.swapFree)], ['Zswap:', K(i.zswap)], ['Zswapped:', K(i.zswapped)],
    ['Dirty:', K(i.dirty)], ['Writeback:', K(i.writeback)], ['AnonPages:', K(i.anonPages)], ['Mapped:', K(i.mapped)],
    ['Shmem:', K(i.shmem)], ['KReclaimable:', K(i.slabReclaimable + i.kernelMiscReclaimable)],
    ['Slab:', K(i.slabReclaimable + i.slabUnreclaimable)], ['SReclaimable:', K(i.slabReclaimable)],
    ['SUnreclaim:', K(i.slabUnreclaimable)], ['KernelStack:', i.kernelStackKiB], ['PageTables:', K(i.pageTables)],
    ['SecPageTables:', K(i.secPageTables)], ['NFS_Unstable:', K(i.nfsUnstable)], ['Bounce:', K(i.bounce)],
    ['WritebackTmp:', K(i.writebackTmp)], ['CommitLimit:', K(i.commitLimit)], ['Committed_AS:', K(i.committedAs)],
    ['VmallocTotal:', i.vmallocTotalKiB], ['VmallocUsed:', i.vmallocUsedKiB], ['VmallocChunk:', i.vmallocChunkKiB],
    ['Percpu:', i.percpuKiB], ['AnonHugePages:', K(i.anonHugePages)], ['ShmemHugePages:', K(i.shmemHugePages)],
    ['ShmemPmdMapped:', K(i.shmemPmdMapped)], ['FileHugePages:', K(i.fileHugePages)], ['FilePmdMapped:', K(i.filePmdMapped)],
    ['Balloon:', K(i.balloon)],
  ];
}

function render618(i: MeminfoInput): string {
  let out = lines618(i).map(([l, v]) => procLine(l, 16, v, 8, ' kB')).join('');
  // hugetlb_report_meminfo(): "HugePages_Total:   %5lu" (three spaces, then five columns).
  out += procLine('HugePages_Total:   ', 19, i.hugePagesTotal, 5, '');
  out += procLine('HugePages_Free:    ', 19, i.hugePagesFree, 5, '');
  out += procLine('HugePages_Rsvd:    ', 19, i.hugePagesRsvd, 5, '');
  out += procLine('HugePages_Surp:    ', 19, i.hugePagesSurp, 5, '');
  out += procLine('Hugepagesize:', 16, i.hugepageSizeKiB, 8, ' kB');
  out += procLine('Hugetlb:', 16, i.hugetlbKiB, 8, ' kB');
  out += procLine('DirectMap4k:', 16, i.directMap4kKiB, 8, ' kB');
  out += procLine('DirectMap2M:', 16, i.directMap2MKiB, 8, ' kB');
  out += procLine('DirectMap1G:', 16, i.directMap1GKiB, 8, ' kB');
  return out;
}

function render2618(i: MeminfoInput): string {
  const rows: Line[] = [
    ['MemTotal:', K(i.memTotal)], ['MemFree:', K(i.memFree)], ['Buffers:', K(i.buffers)], ['Cached:', K(cachedPages(i))],
    // 2.6.18 had one active and one inactive list and no unevictable list: reclaim found mlocked
    // pages on the LRU and activated them, so they are counted as active.
    ['SwapCached:', K(i.swapCached)], ['Active:', K(i.activeAnon + i.activeFile + i.unevictable)],
    ['Inactive:', K(i.inactiveAnon + i.inactiveFile)],
    ['HighTotal:', K(i.highTotal)], ['HighFree:', K(i.highFree)], ['LowTotal:', K(i.memTotal - i.highTotal)],
    ['LowFree:', K(i.memFree - i.highFree)], ['SwapTotal:', K(i.swapTotal)], ['SwapFree:', K(i.swapFree)],
    ['Dirty:', K(i.dirty)], ['Writeback:', K(i.writeback)], ['AnonPages:', K(i.anonPages)], ['Mapped:', K(i.mapped)],
    ['Slab:', K(i.slabReclaimable + i.slabUnreclaimable)], ['PageTables:', K(i.pageTables)], ['NFS_Unstable:', K(i.nfsUnstable)],
    ['Bounce:', K(i.bounce)], ['CommitLimit:', K(i.commitLimit)], ['Committed_AS:', K(i.committedAs)],
    ['VmallocTotal:', i.vmallocTotalKiB], ['VmallocUsed:', i.vmallocUsedKiB], ['VmallocChunk:', i.vmallocChunkKiB],
  ];
  let out = rows.map(([l, v]) => procLine(l, 14, v, 8, ' kB')).join('');
  out += procLine('HugePages_Total:', 17, i.hugePagesTotal, 5, '');
  out += procLine('HugePages_Free:', 17, i.hugePagesFree, 5, '');
  out += procLine('HugePages_Rsvd:', 17, i.hugePagesRsvd, 5, '');
  out += procLine('Hugepagesize:', 17, i.hugepageSizeKiB, 5, ' kB');
  return out;
}

export function renderMeminfo(input: MeminfoInput, profile: KernelProfile): string {
  switch (profile) {
    case 'linux-6.18':
      return render618(input);
    case 'linux-2.6.18':
      return render2618(input);
    default:
      return unreachable(profile, 'kernel profile');
  }
}
