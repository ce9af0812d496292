// The physical memory map of a simulated x86-64 machine: which page frames exist, which zone
// each belongs to, and which ones the kernel keeps for itself before the buddy allocator sees
// any (so MemTotal < RAM, as on a real machine).
//
// The rule (calibrated on a 6.18 Firecracker guest with 24 GiB, whose zoneinfo it reproduces
// for spanned/present exactly and for managed to 0.2%):
//  - RAM below 4 GiB ends at 3 GiB (the 32-bit PCI/MMIO hole is [3 GiB, 4 GiB)); RAM beyond
//    3 GiB is mapped from 4 GiB up. Zones: DMA = pfn 1..4095, DMA32 = up to 4 GiB (spanned
//    includes the hole), Normal = from 4 GiB. Movable and Device are empty.
//  - Not RAM: pfn 0 (e820 reserved) and pfns 159..255 (the 640 KiB - 1 MiB BIOS/VGA hole), so
//    DMA has spanned 4095, present 3998.
//  - Present but reserved (never given to the buddy allocator):
//      pfns 1..158: the rest of the first MiB (x86 always reserves it since 5.13);
//      48 MiB from 16 MiB: the kernel image (loaded at CONFIG_PHYSICAL_START = 16 MiB) and
//        early boot allocations;
//      the struct page array (memmap): 64 bytes per page of every 128 MiB section that holds
//        RAM = 512 pages per section, allocated top-down at the end of RAM.
//    DMA thus has managed 3840, as on real machines.
// Frames are indexed without the PCI hole (frame index i < 3 GiB: pfn i; else pfn i + 1 GiB),
// so a 64 GiB machine has exactly 16M frames. The hole is 1 GiB-aligned, so buddy arithmetic
// (pfn ^ (1 << order), order <= 10) is the same on frame indexes and on pfns.
import { invalid, type KernelProfile } from '../common/index.js';
import { ZONE_MODELS } from './constants.js';

export const DMA_END_PFN = 4096;
export const LOW_RAM_END_PFN = 786432; // 3 GiB
export const HIGH_RAM_START_PFN = 1048576; // 4 GiB
export const PCI_HOLE_PAGES = HIGH_RAM_START_PFN - LOW_RAM_END_PFN;
export const BIOS_HOLE_FIRST_PFN = 159;
export const FIRST_MIB_PFNS = 256;
export const KERNEL_START_PFN = 4096;
export const KERNEL_RESERVED_PAGES = 12288; // 48 MiB
export const SECTION_PAGES = 32768; // 128 MiB sections (x86-64 SECTION_SIZE_BITS 27)
export const MEMMAP_PAGES_PER_SECTION = 512; // 32768 struct pages * 64 B / 4 KiB

export const MIN_RAM_BYTES = 128 * 2 ** 20;
export const MAX_RAM_BYTES = 256 * 2 ** 30;
export const MAX_SWAP_BYTES = 1024 * 2 ** 30;

export interface ZoneLayout {
  readonly index: number;
  readonly name: string;
  /** zone_start_pfn (0 for an empty zone). */
  readonly startPfn: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
  /** Frame indexes [startIdx, endIdx) of the zone (empty zones: startIdx = endIdx). */
  readonly startIdx: number;
  readonly endIdx: number;
}

export interface Range {
  readonly start: number;
  readonly end: number;
}

export interface Layout {
  readonly ramPages: number;
  /** Frames (= RAM pages); frame indexes 0..nFrames-1. */
  readonly nFrames: number;
  readonly zones: readonly ZoneLayout[];
  /** Frame index ranges that are not RAM (holes). */
  readonly holes: readonly Range[];
  /** Frame index ranges of present pages the kernel reserved at boot. */
  readonly reserved: readonly Range[];
  /** Frame index ranges handed to the buddy allocator at boot, ascending. */
  readonly free: readonly Range[];
  readonly memmapPages: number;
}

export const pfnOfIdx = (i: number): number => (i < LOW_RAM_END_PFN ? i : i + PCI_HOLE_PAGES);
/** The frame index of a pfn, or -1 if the pfn is not RAM of this layout. */
export function idxOfPfn(pfn: number, nFrames: number): number {
  if (!Number.isInteger(pfn) || pfn < 0) return -1;
  const i = pfn < LOW_RAM_END_PFN ? pfn : pfn >= HIGH_RAM_START_PFN ? pfn - PCI_HOLE_PAGES : -1;
  return i >= 0 && i < nFrames ? i : -1;
}

const overlap = (a: Range, s: number, e: number): number => Math.max(0, Math.min(a.end, e) - Math.max(a.start, s));

export function validateRam(ramBytes: number, swapBytes: number): void {
  if (!Number.isSafeInteger(ramBytes) || ramBytes % 4096 !== 0 || ramBytes < MIN_RAM_BYTES || ramBytes > MAX_RAM_BYTES) {
    throw invalid('frames.BAD_CONFIG', `ramBytes must be a multiple of 4096 in [128 MiB, 256 GiB], got ${ramBytes}`);
  }
  if (!Number.isSafeInteger(swapBytes) || swapBytes % 4096 !== 0 || swapBytes < 0 || swapBytes > MAX_SWAP_BYTES
    || swapBytes === 4096) {
    throw invalid('frames.BAD_CONFIG', `swapBytes must be 0 or a multiple of 4096 of at least 8 KiB, at most 1 TiB, got ${swapBytes}`);
  }
}

export function computeLayout(ramBytes: number, profile: KernelProfile): Layout {
  validateRam(ramBytes, 0);
  const n = ramBytes / 4096;
  const lowRam = Math.min(n, LOW_RAM_END_PFN);
  const highRam = n - lowRam;
  const holes: Range[] = [{ start: 0, end: 1 }, { start: BIOS_HOLE_FIRST_PFN, end: FIRST_MIB_PFNS }];
  const sections = Math.ceil(lowRam / SECTION_PAGES) + Math.ceil(highRam / SECTION_PAGES);
  const memmapPages = sections * MEMMAP_PAGES_PER_SECTION;
  const reserved: Range[] = [
    { start: 1, end: BIOS_HOLE_FIRST_PFN },
    { start: KERNEL_START_PFN, end: KERNEL_START_PFN + KERNEL_RESERVED_PAGES },
    { start: n - memmapPages, end: n },
  ];
  const free: Range[] = [
    { start: FIRST_MIB_PFNS, end: DMA_END_PFN },
    { start: KERNEL_START_PFN + KERNEL_RESERVED_PAGES, end: n - memmapPages },
  ];
  const model = ZONE_MODELS[profile];
  const spans: Range[] = [
    { start: 0, end: DMA_END_PFN },
    { start: DMA_END_PFN, end: lowRam },
    { start: lowRam, end: n },
  ];
  const zones: ZoneLayout[] = model.names.map((name, index) => {
    if (index > 2 || spans[index].end <= spans[index].start) {
      return { index, name, startPfn: 0, spanned: 0, present: 0, managed: 0, startIdx: n, endIdx: n };
    }
    const { start, end } = spans[index];
    const holesIn = holes.reduce((t, h) => t + overlap(h, start, end), 0);
    const reservedIn = reserved.reduce((t, r) => t + overlap(r, start, end), 0);
    const startPfn = index === 0 ? 1 : pfnOfIdx(start);
    // A zone spans from its first pfn to the end of its last: DMA32 with RAM above 4 GiB spans the PCI hole.
    const endPfn = index === 1 && highRam > 0 ? HIGH_RAM_START_PFN : pfnOfIdx(end - 1) + 1;
    const present = end - start - holesIn;
    return { index, name, startPfn, spanned: endPfn - startPfn, present, managed: present - reservedIn, startIdx: start, endIdx: end };
  });
  return { ramPages: n, nFrames: n, zones, holes, reserved, free, memmapPages };
}

export const totalManaged = (l: Layout): number => l.zones.reduce((t, z) => t + z.managed, 0);
export const totalPresent = (l: Layout): number => l.zones.reduce((t, z) => t + z.present, 0);
