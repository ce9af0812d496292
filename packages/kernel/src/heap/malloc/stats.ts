// malloc/malloc.c: mtrim() / __malloc_trim(), int_mallinfo() / __libc_mallinfo2(),
// __malloc_stats().
import { binIndex, MALLOC_CHUNK_SIZEOF, NBINS, NFASTBINS, PAGESIZE } from '../constants.js';
import { G, MAIN_ARENA, MallocHang, type HeapProcess } from '../process.js';
import { arenaNext, binAt, bk, fastbinAddr, loadRevealed, malloc_printerr, systemMem, top } from './arena-state.js';
import { mallocConsolidate } from './int-free.js';
import { systrim } from './sysmalloc.js';

const MADV_DONTNEED = 4;

/** struct mallinfo2 */
export interface Mallinfo2 {
  arena: number;
  ordblks: number;
  smblks: number;
  hblks: number;
  hblkhd: number;
  usmblks: number;
  fsmblks: number;
  uordblks: number;
  fordblks: number;
  keepcost: number;
}

export const emptyMallinfo = (): Mallinfo2 => ({ arena: 0, ordblks: 0, smblks: 0, hblks: 0, hblkhd: 0, usmblks: 0, fsmblks: 0, uordblks: 0, fordblks: 0, keepcost: 0 });

/** mtrim(av, pad) */
export function mtrim(h: HeapProcess, av: number, pad: number): number {
  mallocConsolidate(h, av);
  const ps = PAGESIZE;
  const psindex = binIndex(ps);
  const psm1 = ps - 1;
  let result = 0;
  for (let i = 1; i < NBINS; i++) {
    if (i !== 1 && i < psindex) continue;
    const bin = binAt(av, i);
    const bound = systemMem(h, av) / 16 + 2;
    let steps = 0;
    for (let p = bk(h, bin); p !== bin; p = bk(h, p)) {
      if (++steps > bound) throw new MallocHang('mtrim');
      let size = h.chunksize(p);
      if (size > psm1 + MALLOC_CHUNK_SIZEOF) {
        const a = p + MALLOC_CHUNK_SIZEOF + psm1;
        const palignedMem = a - (a % ps);
        size -= palignedMem - p;
        if (size > psm1) {
          h.madvise(palignedMem, size - (size % ps), MADV_DONTNEED);
          result = 1;
        }
      }
    }
  }
  return result | (av === MAIN_ARENA ? systrim(h, pad, av) : 0);
}

/** __malloc_trim(pad): every arena, main first. */
export function mallocTrimAll(h: HeapProcess, pad: number): number {
  let result = 0;
  let ar = MAIN_ARENA;
  do {
    result |= mtrim(h, ar, pad);
    ar = arenaNext(h, ar);
  } while (ar !== MAIN_ARENA);
  return result;
}

/** int_mallinfo(av, m): adds one arena's figures to m. */
export function intMallinfo(h: HeapProcess, av: number, m: Mallinfo2): void {
  let avail = h.chunksize(top(h, av));
  // no list can hold more chunks than fit in the arena: more means a cycle
  const bound = systemMem(h, av) / 16 + 2;
  let steps = 0;
  let nblocks = 1;
  let nfastblocks = 0;
  let fastavail = 0;
  for (let i = 0; i < NFASTBINS; i++) {
    const fb = fastbinAddr(av, i);
    let p = h.mem.rd(fb);
    let pLo = h.mem.rdLo(fb);
    while (p !== 0) {
      if ((pLo & 15) !== 0) malloc_printerr('int_mallinfo(): unaligned fastbin chunk detected');
      if (++steps > bound) throw new MallocHang('int_mallinfo');
      ++nfastblocks;
      fastavail += h.chunksize(p);
      p = loadRevealed(h, p + 16);
      pLo = h.revealedLo;
    }
  }
  avail += fastavail;
  for (let i = 1; i < NBINS; i++) {
    const b = binAt(av, i);
    for (let p = bk(h, b); p !== b; p = bk(h, p)) {
      if (++steps > bound) throw new MallocHang('int_mallinfo');
      ++nblocks;
      avail += h.chunksize(p);
    }
  }
  const sm = systemMem(h, av);
  m.smblks += nfastblocks;
  m.ordblks += nblocks;
  m.fordblks += avail;
  m.uordblks += sm - avail;
  m.arena += sm;
  m.fsmblks += fastavail;
  if (av === MAIN_ARENA) {
    m.hblks = h.g[G.NMmaps];
    m.hblkhd = h.g[G.MmappedMem];
    m.usmblks = 0;
    m.keepcost = h.chunksize(top(h, av));
  }
}

/** __libc_mallinfo2() */
export function mallinfo2All(h: HeapProcess): Mallinfo2 {
  const m = emptyMallinfo();
  let ar = MAIN_ARENA;
  do {
    intMallinfo(h, ar, m);
    ar = arenaNext(h, ar);
  } while (ar !== MAIN_ARENA);
  return m;
}

const u32 = (x: number): number => ((x % 4294967296) + 4294967296) % 4294967296;
const pad10 = (x: number): string => String(x).padStart(10, ' ');

/** __malloc_stats(): the text it writes to stderr. */
export function mallocStatsText(h: HeapProcess): string {
  let inUse = u32(h.g[G.MmappedMem]);
  let system = inUse;
  let out = '';
  let ar = MAIN_ARENA;
  for (let i = 0; ; i++) {
    const mi = emptyMallinfo();
    intMallinfo(h, ar, mi);
    out += `Arena ${i}:\n`;
    out += `system bytes     = ${pad10(u32(mi.arena))}\n`;
    out += `in use bytes     = ${pad10(u32(mi.uordblks))}\n`;
    system = u32(system + mi.arena);
    inUse = u32(inUse + mi.uordblks);
    ar = arenaNext(h, ar);
    if (ar === MAIN_ARENA) break;
  }
  out += 'Total (incl. mmap):\n';
  out += `system bytes     = ${pad10(system)}\n`;
  out += `in use bytes     = ${pad10(inUse)}\n`;
  out += `max mmap regions = ${pad10(u32(h.g[G.MaxNMmaps]))}\n`;
  out += `max mmap bytes   = ${pad10(h.g[G.MaxMmappedMem])}\n`;
  return out;
}
