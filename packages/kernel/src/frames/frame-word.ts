// The 32-bit word of a frame: 11 flag bits and a 21-bit handle.
//
//   bits 0-1   state: FREE, USER, KERNEL, RESERVED
//   FREE       bit 2 PageBuddy (head of a free block), bits 3-6 its order
//   USER       bits 2-4 the LRU list, bit 5 PG_referenced, bit 6 PG_swapcache, bit 7 PG_dirty,
//              bits 8-10 bits 32..34 of the page index; handle = owner handle
//   KERNEL     bits 2-4 the kernel page kind; handle = memcg index charged
//   RESERVED   holes and boot reservations
// A free tail page (inside a free block, not its head) has word 0.

export const ST_MASK = 3;
export const ST_FREE = 0;
export const ST_USER = 1;
export const ST_KERNEL = 2;
export const ST_RESERVED = 3;

export const F_BUDDY = 1 << 2;
export const ORDER_SHIFT = 3;

export const LRU_SHIFT = 2;
export const LRU_BITS = 7 << LRU_SHIFT;
export const F_REFERENCED = 1 << 5;
export const F_SWAPCACHE = 1 << 6;
export const F_DIRTY = 1 << 7;
export const IHI_SHIFT = 8;
export const IHI_BITS = 7 << IHI_SHIFT;

export const HANDLE_SHIFT = 11;
export const FLAG_BITS = (1 << HANDLE_SHIFT) - 1;
export const MAX_HANDLES = 2 ** (32 - HANDLE_SHIFT);
/** Page indexes are below 2^35 (47-bit user addresses / 4 KiB). */
export const MAX_PAGE_INDEX = 2 ** 35;

export const buddyWord = (order: number): number => F_BUDDY | (order << ORDER_SHIFT) | ST_FREE;
export const stateOf = (w: number): number => w & ST_MASK;
export const orderOf = (w: number): number => (w >>> ORDER_SHIFT) & 15;
export const lruOf = (w: number): number => (w >>> LRU_SHIFT) & 7;
export const handleOf = (w: number): number => w >>> HANDLE_SHIFT;

export function userWord(handle: number, lru: number, flags: number, pageIndex: number): number {
  const ihi = pageIndex < 4294967296 ? 0 : Math.floor(pageIndex / 4294967296);
  return ((handle << HANDLE_SHIFT) | flags | (ihi << IHI_SHIFT) | (lru << LRU_SHIFT) | ST_USER) >>> 0;
}

export const kernelWord = (memcg: number, kind: number): number => ((memcg << HANDLE_SHIFT) | (kind << LRU_SHIFT) | ST_KERNEL) >>> 0;

export const withLru = (w: number, lru: number): number => ((w & ~LRU_BITS) | (lru << LRU_SHIFT)) >>> 0;

/** The full page index of a user frame from its word and index array entry. */
export const pageIndexOf = (w: number, lo: number): number => ((w & IHI_BITS) >>> IHI_SHIFT) * 2 ** 32 + lo;

/** An anonymous page on a file LRU list is one MADV_FREE made lazily freeable (the kernel's !PageSwapBacked anon folio). */
export const isLazyFree = (w: number): boolean => {
  const l = lruOf(w);
  return l === 2 || l === 3; // LRU_INACTIVE_FILE, LRU_ACTIVE_FILE
};
