// What the heap map draws: the regions of one process's allocator and the chunks in them, in
// plain data. heap/inspect.ts builds the inspection view; toHeapMap() in view.ts turns it into this.

/** A chunk's state, as the legend names it. */
export type ChunkKind =
  | 'in-use'
  | 'tcache'
  | 'fastbin'
  | 'unsorted'
  | 'small'
  | 'large'
  | 'top'
  | 'mmapped'
  /** allocator-owned: tcache_perthread_struct, a non-main heap's heap_info and malloc_state, alignment padding */
  | 'meta';

export const CHUNK_KINDS: readonly ChunkKind[] = ['in-use', 'tcache', 'fastbin', 'unsorted', 'small', 'large', 'top', 'mmapped', 'meta'];

export interface MapChunk {
  /** The chunk's address (its prev_size field), not the user pointer. */
  readonly addr: number;
  /** The chunk size, flags masked off. */
  readonly size: number;
  readonly kind: ChunkKind;
}

export type RegionKind = 'brk' | 'arena-heap' | 'mmapped';

export interface MapRegion {
  readonly kind: RegionKind;
  /** [start, end): the mapped bytes (for brk, heap_base to the break). */
  readonly start: number;
  readonly end: number;
  /** Shown above the region, e.g. "arena 1 heap". */
  readonly label?: string;
  /** The chunks inside [start, end), any order; bytes no chunk covers are drawn as 'meta'. */
  readonly chunks: readonly MapChunk[];
}

export interface HeapMap {
  readonly regions: readonly MapRegion[];
}

export interface HeapSvgOptions {
  readonly title?: string;
  /** Width of the drawing area in px (default 1200). */
  readonly width?: number;
  /** Most rows of chunks before small neighbours are merged (default 240). */
  readonly maxRows?: number;
  /** Narrowest chunk in px (default 3). */
  readonly minChunkPx?: number;
  /** A <title> per chunk (hover text) while there are at most this many (default 20000). */
  readonly tooltipLimit?: number;
}
