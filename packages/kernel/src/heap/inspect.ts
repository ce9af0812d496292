// A plain-data view of one process's allocator, for `mmsim heap bins/chunks/map` and the SVG
// heap map: every arena with its top and bins (tcache per thread, fastbins, unsorted, small,
// large) in list order, every chunk of every heap in address order with its kind, the mmapped
// chunks, and the tunables in force. It reads memory without counting loads (inspection is
// not the program), follows safe-linking, and stops a list walk that loops.
import {
  binIndex,
  C_FD,
  HEAP_INFO_SIZE,
  HEAP_MAX_SIZE,
  HI_PREV,
  HI_SIZE,
  MALLOC_STATE_SIZE,
  MS_BINMAP,
  MS_FASTBINS,
  MS_FLAGS,
  MS_HAVE_FASTCHUNKS,
  MS_LAST_REMAINDER,
  MS_MAX_SYSTEM_MEM,
  MS_NEXT,
  MS_SYSTEM_MEM,
  MS_TOP,
  NBINS,
  NFASTBINS,
  TCACHE_ENTRIES_OFFSET,
  TCACHE_MAX_BINS,
  tidx2usize,
} from './constants.js';
import { MapUse } from './memory/mappings.js';
import { G, MAIN_ARENA, type HeapProcess } from './process.js';
import type { HeapMap, MapChunk, MapRegion } from './svg/types.js';

/** A chunk's state (the heap map's legend uses the same names). */
export type ChunkKind = 'in-use' | 'tcache' | 'fastbin' | 'unsorted' | 'small' | 'large' | 'top' | 'mmapped' | 'meta';

export interface ChunkView {
  /** The chunk (its prev_size field); the user pointer is addr + 16. */
  readonly addr: number;
  /** Size without the flag bits. */
  readonly size: number;
  readonly kind: ChunkKind;
  /** The size field's low bits: PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4. */
  readonly flags: number;
}

export interface BinView {
  /** glibc's bin index (fastbin index for fastbins, tcache index for tcache bins). */
  readonly index: number;
  /** The chunk size the bin holds (small, fast, tcache), or its smallest size (large). */
  readonly size: number;
  /** Chunk addresses in list order: fd from the head (fastbin, tcache, unsorted, small, large). */
  readonly chunks: readonly number[];
  /** True when the walk stopped on a loop or an unreadable link. */
  readonly truncated: boolean;
}

export interface HeapRegionView {
  readonly kind: 'brk' | 'arena-heap';
  /** [start, end): the brk heap from its first page to the break, or a heap_info's mapping in use. */
  readonly start: number;
  readonly end: number;
  readonly chunks: readonly ChunkView[];
}

export interface ArenaView {
  /** 0 for main_arena, then in the order of main_arena.next. */
  readonly number: number;
  readonly addr: number;
  readonly main: boolean;
  readonly top: number;
  readonly topSize: number;
  readonly lastRemainder: number;
  readonly systemMem: number;
  readonly maxSystemMem: number;
  readonly contiguous: boolean;
  readonly haveFastchunks: boolean;
  readonly binmap: readonly number[];
  readonly fastbins: readonly BinView[];
  readonly unsorted: BinView;
  /** Non-empty small bins (index 2..63). */
  readonly smallbins: readonly BinView[];
  /** Non-empty large bins (index 64..126), chunks sorted largest first as glibc keeps them. */
  readonly largebins: readonly BinView[];
  readonly heaps: readonly HeapRegionView[];
}

export interface TcacheView {
  readonly tid: number;
  /** The tcache_perthread_struct (user pointer of its 0x290 chunk), 0 if the thread has none. */
  readonly addr: number;
  /** The thread's arena (0: none yet). */
  readonly arena: number;
  /** Non-empty bins with their counts (counts[] may disagree with the list if corrupted). */
  readonly bins: readonly (BinView & { readonly count: number })[];
}

export interface MmappedChunkView {
  readonly addr: number;
  readonly size: number;
  /** The mapping: [start, end). */
  readonly mapStart: number;
  readonly mapEnd: number;
}

export interface TunablesView {
  readonly trimThreshold: number;
  readonly topPad: number;
  readonly mmapThreshold: number;
  readonly mmapMax: number;
  readonly arenaMax: number;
  readonly arenaTest: number;
  readonly tcacheCount: number;
  readonly tcacheMaxBytes: number;
  readonly tcacheUnsortedLimit: number;
  readonly maxFast: number;
  readonly perturbByte: number;
  /** Set once the thresholds were fixed by mallopt, the environment or a tunable. */
  readonly noDynThreshold: boolean;
}

export interface HeapInspection {
  readonly initialized: boolean;
  /** The initial program break and the break now. */
  readonly brkStart: number;
  readonly brk: number;
  readonly sbrkBase: number;
  readonly arenas: readonly ArenaView[];
  readonly threads: readonly TcacheView[];
  readonly mmapped: readonly MmappedChunkView[];
  readonly nMmaps: number;
  readonly maxNMmaps: number;
  readonly mmappedMem: number;
  readonly maxMmappedMem: number;
  readonly tunables: TunablesView;
  /** Why the process is gone, if it is. */
  readonly dead: string | null;
}

const MAX_WALK = 1_000_000;

export function inspectHeap(h: HeapProcess): HeapInspection {
  const m = h.mem;
  const peek = (a: number): number => m.peek(a);
  const reveal = (pos: number): number => {
    const s = Math.floor(pos / 4096);
    const lo = (m.peekLo(pos) ^ (s >>> 0)) >>> 0;
    const hi = (m.peekHi(pos) ^ (Math.floor(s / 4294967296) >>> 0)) >>> 0;
    return lo + hi * 4294967296;
  };
  const readable = (a: number): boolean => a > 0 && a % 16 === 0 && a < 2 ** 48 + 2 ** 20 && h.mappings.mappingKind(a, false) !== 0;
  const g = h.g;
  const initialized = g[G.Initialized] !== 0;

  const tcacheChunks = new Set<number>();
  const threads: TcacheView[] = [];
  for (const t of h.threads()) {
    const bins: (BinView & { count: number })[] = [];
    if (t.tcache !== 0) {
      for (let i = 0; i < TCACHE_MAX_BINS; i++) {
        const count = m.peek16(t.tcache + 2 * i);
        let e = peek(t.tcache + TCACHE_ENTRIES_OFFSET + 8 * i);
        const chunks: number[] = [];
        let truncated = false;
        while (e !== 0) {
          if (!readable(e) || chunks.length > 65536) {
            truncated = true;
            break;
          }
          chunks.push(e - 16);
          tcacheChunks.add(e - 16);
          e = reveal(e);
        }
        if (chunks.length > 0 || count > 0) bins.push({ index: i, size: tidx2usize(i) + 8, count, chunks, truncated });
      }
    }
    threads.push({ tid: t.tid, addr: t.tcache, arena: t.arena, bins });
  }
  const tcacheStructs = new Set(h.threads().filter((t) => t.tcache !== 0).map((t) => t.tcache - 16));

  const arenas: ArenaView[] = [];
  let av = MAIN_ARENA;
  for (let n = 0; n < 1024; n++) {
    arenas.push(inspectArena(h, av, n, peek, reveal, readable, tcacheChunks, tcacheStructs));
    av = peek(av + MS_NEXT);
    if (av === MAIN_ARENA || av === 0 || !initialized) break;
  }

  const mmapped: MmappedChunkView[] = [];
  for (const mp of h.mappings.all()) {
    if (mp.use !== MapUse.Chunk) continue;
    const p = mp.aux !== 0 ? mp.aux : mp.start;
    const sz = peek(p + 8);
    mmapped.push({ addr: p, size: sz - (sz % 8), mapStart: mp.start, mapEnd: mp.end });
  }

  return {
    initialized,
    brkStart: h.config.brkStart,
    brk: g[G.Curbrk],
    sbrkBase: g[G.SbrkBase],
    arenas,
    threads,
    mmapped,
    nMmaps: g[G.NMmaps],
    maxNMmaps: g[G.MaxNMmaps],
    mmappedMem: g[G.MmappedMem],
    maxMmappedMem: g[G.MaxMmappedMem],
    tunables: {
      trimThreshold: g[G.TrimThreshold],
      topPad: g[G.TopPad],
      mmapThreshold: g[G.MmapThreshold],
      mmapMax: g[G.NMmapsMax],
      arenaMax: g[G.ArenaMax],
      arenaTest: g[G.ArenaTest],
      tcacheCount: g[G.TcacheCount],
      tcacheMaxBytes: g[G.TcacheMaxBytes],
      tcacheUnsortedLimit: g[G.TcacheUnsortedLimit],
      maxFast: g[G.GlobalMaxFast],
      perturbByte: g[G.PerturbByte],
      noDynThreshold: g[G.NoDynThreshold] !== 0,
    },
    dead: h.dead,
  };
}

function inspectArena(
  h: HeapProcess,
  av: number,
  number: number,
  peek: (a: number) => number,
  reveal: (pos: number) => number,
  readable: (a: number) => boolean,
  tcacheChunks: ReadonlySet<number>,
  tcacheStructs: ReadonlySet<number>,
): ArenaView {
  const main = av === MAIN_ARENA;
  const top = peek(av + MS_TOP);
  const ts = peek(top + 8);
  const binAt = (i: number): number => av + 112 + (i - 1) * 16 - 16;

  const fastSet = new Set<number>();
  const fastbins: BinView[] = [];
  for (let i = 0; i < NFASTBINS; i++) {
    let p = peek(av + MS_FASTBINS + 8 * i);
    const chunks: number[] = [];
    let truncated = false;
    while (p !== 0) {
      if (!readable(p) || chunks.length > MAX_WALK) {
        truncated = true;
        break;
      }
      chunks.push(p);
      fastSet.add(p);
      p = reveal(p + 16);
    }
    fastbins.push({ index: i, size: (i + 2) * 16, chunks, truncated });
  }

  const walkBin = (i: number, set: Set<number>): BinView => {
    const b = binAt(i);
    const chunks: number[] = [];
    let truncated = false;
    for (let p = peek(b + C_FD); p !== b; p = peek(p + C_FD)) {
      if (!readable(p) || chunks.length > MAX_WALK) {
        truncated = true;
        break;
      }
      chunks.push(p);
      set.add(p);
    }
    return { index: i, size: i < 64 ? i * 16 : largeMin(i), chunks, truncated };
  };
  const unsortedSet = new Set<number>(), smallSet = new Set<number>(), largeSet = new Set<number>();
  const unsorted = walkBin(1, unsortedSet);
  const smallbins: BinView[] = [];
  const largebins: BinView[] = [];
  for (let i = 2; i < NBINS; i++) {
    const v = walkBin(i, i < 64 ? smallSet : largeSet);
    if (v.chunks.length > 0 || v.truncated) (i < 64 ? smallbins : largebins).push(v);
  }

  const kindOf = (p: number): ChunkKind => {
    if (p === top) return 'top';
    if (tcacheChunks.has(p)) return 'tcache';
    if (fastSet.has(p)) return 'fastbin';
    if (unsortedSet.has(p)) return 'unsorted';
    if (smallSet.has(p)) return 'small';
    if (largeSet.has(p)) return 'large';
    if (tcacheStructs.has(p)) return 'meta';
    return 'in-use';
  };
  const walk = (start: number, end: number): ChunkView[] => {
    const out: ChunkView[] = [];
    let p = start;
    while (p < end && out.length < 4 * MAX_WALK) {
      const raw = peek(p + 8);
      const size = raw - (raw % 8);
      const flags = h.mem.peekLo(p + 8) & 7;
      if (p === top) {
        out.push({ addr: p, size: Math.min(size, end - p), kind: 'top', flags });
        break;
      }
      if (size < 16 || p + size > end) {
        // a fencepost (16 or 0 bytes) or an unreadable size: the rest belongs to the allocator
        out.push({ addr: p, size: end - p, kind: 'meta', flags });
        break;
      }
      out.push({ addr: p, size, kind: size === 16 ? 'meta' : kindOf(p), flags });
      p += size;
    }
    return out;
  };

  const heaps: HeapRegionView[] = [];
  if (main) {
    const base = h.g[G.SbrkBase];
    if (base !== 0) {
      const brk = h.g[G.Curbrk];
      // the first chunk is 16-aligned after the break's start
      const first = base + ((16 - ((base + 16) % 16)) % 16);
      heaps.push({ kind: 'brk', start: base, end: brk, chunks: walk(first, top !== 0 && top >= base && top < brk ? top + ts - (ts % 8) : brk) });
    }
  } else {
    // the heaps of a thread arena, newest first through heap_info.prev
    const regions: HeapRegionView[] = [];
    let heap = top - (top % HEAP_MAX_SIZE);
    for (let k = 0; k < 4096 && heap !== 0; k++) {
      const size = peek(heap + HI_SIZE);
      let first = heap + HEAP_INFO_SIZE;
      if (av === heap + HEAP_INFO_SIZE) {
        first = av + MALLOC_STATE_SIZE;
        first += (16 - ((first + 16) % 16)) % 16;
      }
      const end = heap + size;
      regions.push({ kind: 'arena-heap', start: heap, end, chunks: walk(first, end) });
      heap = peek(heap + HI_PREV);
    }
    heaps.push(...regions.reverse());
  }

  const binmap: number[] = [];
  for (let i = 0; i < 4; i++) binmap.push(h.mem.peekLo(av + MS_BINMAP + 4 * i) >>> 0);
  return {
    number,
    addr: av,
    main,
    top,
    topSize: ts - (ts % 8),
    lastRemainder: peek(av + MS_LAST_REMAINDER),
    systemMem: peek(av + MS_SYSTEM_MEM),
    maxSystemMem: peek(av + MS_MAX_SYSTEM_MEM),
    contiguous: (peekU32(h, av + MS_FLAGS) & 2) === 0,
    haveFastchunks: peekU32(h, av + MS_HAVE_FASTCHUNKS) !== 0,
    binmap,
    fastbins,
    unsorted,
    smallbins,
    largebins,
    heaps,
  };
}

function peekU32(h: HeapProcess, addr: number): number {
  return addr % 8 === 0 ? h.mem.peekLo(addr) : h.mem.peekHi(addr - 4);
}

let largeMins: number[] | undefined;
/** The smallest chunk size large bin i holds (a table made once). */
function largeMin(i: number): number {
  if (largeMins === undefined) {
    const t: number[] = [];
    for (let sz = 1024; sz <= 1 << 21; sz += 16) {
      const b = binIndex(sz);
      if (t[b] === undefined) t[b] = sz;
    }
    largeMins = t;
  }
  return largeMins[i] ?? 0;
}

/** The heap map (heap/svg) of an inspection: the brk heap, thread heaps and mmapped chunks. */
export function toHeapMap(v: HeapInspection): HeapMap {
  const regions: MapRegion[] = [];
  for (const a of v.arenas) {
    for (const hp of a.heaps) {
      const chunks: MapChunk[] = hp.chunks.map((c) => ({ addr: c.addr, size: c.size, kind: c.kind }));
      regions.push({ kind: hp.kind, start: hp.start, end: hp.end, label: a.main ? 'main arena (brk)' : `arena ${a.number} heap`, chunks });
    }
  }
  for (const c of v.mmapped) regions.push({ kind: 'mmapped', start: c.mapStart, end: c.mapEnd, label: 'mmapped chunk', chunks: [{ addr: c.addr, size: c.size, kind: 'mmapped' }] });
  regions.sort((x, y) => x.start - y.start);
  return { regions };
}

