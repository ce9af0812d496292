// Quantities that get mixed up carry their unit in the type. Converters below are the only
// place where two units meet.

export type Pages = number & { readonly unit: 'pages' };
export type Bytes = number & { readonly unit: 'bytes' };
export type KiB = number & { readonly unit: 'KiB' };
/** A physical page frame number. */
export type Pfn = number & { readonly unit: 'pfn' };
/** A user virtual address; below 2^47 on x86-64 (4-level paging), so a number holds it exactly. */
export type Addr = number & { readonly unit: 'addr' };
/** Simulated time in nanoseconds since the machine booted. */
export type Nanos = number & { readonly unit: 'ns' };
export type Pid = number & { readonly unit: 'pid' };

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

export const pages = (n: number): Pages => n as Pages;
export const bytes = (n: number): Bytes => n as Bytes;
export const kib = (n: number): KiB => n as KiB;
export const pfn = (n: number): Pfn => n as Pfn;
export const addr = (n: number): Addr => n as Addr;
export const nanos = (n: number): Nanos => n as Nanos;
export const pid = (n: number): Pid => n as Pid;

export const pagesToKiB = (p: Pages): KiB => (p * (PAGE_SIZE / 1024)) as KiB;
export const kibToPages = (k: KiB): Pages => Math.floor(k / (PAGE_SIZE / 1024)) as Pages;
export const bytesToPages = (b: Bytes): Pages => Math.floor(b / PAGE_SIZE) as Pages;
/** Pages needed to hold b bytes (rounds up). */
export const bytesToPagesUp = (b: Bytes): Pages => Math.ceil(b / PAGE_SIZE) as Pages;
export const pagesToBytes = (p: Pages): Bytes => (p * PAGE_SIZE) as Bytes;

export const NS_PER_MS = 1_000_000;
export const NS_PER_SEC = 1_000_000_000;
