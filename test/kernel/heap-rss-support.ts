// For heap-rss*.spec.ts: RSS follows the kernel. A heap program recorded on a real 6.18 machine
// (test/fixtures/heaptrace prog-*.ht.gz: glibc 2.36 calls, the addresses they returned, and at
// the end `resident heap_pages=H mmap_pages=M`, counted there with mincore(2) over [heap_base,
// final brk) and over each live mmapped chunk) is replayed through the services: a process
// spawned with brk_start = the trace's heap_base, every call made through HeapService, then the
// same count taken the same way, with mincore through VmaService.Syscall, over the break and the
// mmapped chunks the heap service reports (InspectHeap). It must equal the recording.
//
// Rss (/proc/<pid>/smaps) is read too: it may be below mincore by pages mapped to the shared zero
// page (an anonymous page only ever read: realloc() copying a block never written), which the
// kernel's RSS does not count and mincore does; it is never above.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseTrace, type ParsedTrace } from '@mmsim/kernel/heap';
import type { MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { readText, spawn } from './support.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'heaptrace');
// heaptrace ops (packages/kernel/src/heap/trace/types.ts Op).
const OP = { Malloc: 1, Calloc: 2, Realloc: 3, Free: 4, Memalign: 5, AlignedAlloc: 6, PosixMemalign: 7, Valloc: 8, Pvalloc: 9, Mallopt: 10, MallocTrim: 11, Write: 12 } as const;
const VARIANT: Record<number, string> = { [OP.Memalign]: 'memalign', [OP.AlignedAlloc]: 'aligned_alloc', [OP.PosixMemalign]: 'posix_memalign', [OP.Valloc]: 'valloc', [OP.Pvalloc]: 'pvalloc' };

interface SmapsVma {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly anon: boolean;
  readonly rssKb: number;
}

/** The VMAs of /proc/<pid>/smaps with their Rss. */
function smaps(text: string): SmapsVma[] {
  const out: SmapsVma[] = [];
  const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/;
  let cur: { start: number; end: number; name: string; anon: boolean } | null = null;
  for (const line of text.split('\n')) {
    const h = head.exec(line);
    if (h) {
      cur = { start: parseInt(h[1], 16), end: parseInt(h[2], 16), name: h[4].trim(), anon: h[3] === '0' };
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) out.push({ ...cur, rssKb: Number(rss[1]) });
  }
  return out;
}

export interface Outcome {
  readonly trace: ParsedTrace;
  readonly calls: number;
  readonly brkResultsMatched: number;
  readonly brkResults: number;
  readonly died: string;
  /** mincore's count (the zero page included), as the trace's `resident` line counts. */
  readonly heapPages: number;
  readonly mmapPages: number;
  /** /proc/<pid>/smaps Rss (the zero page not counted, as the kernel's RSS does not). */
  readonly heapRss: number;
  readonly mmapRss: number;
}

export async function replayThroughServices(c: MmsimClient, m: MachineRef, name: string): Promise<Outcome> {
  const trace = parseTrace(gunzipSync(readFileSync(join(FIXTURES, `${name}.ht.gz`))).toString('utf8'));
  const pid = await spawn(c, m, name.slice(0, 15), { brkStart: trace.heapBase });
  const before = smaps(await readText(c, m, `/proc/${pid}/smaps`));
  const target = { machine: m, pid, tid: 0 };
  const sim = new Map<number, bigint>(); // real pointer -> the pointer the services returned
  const ptr = (real: number): bigint => (real === 0 ? 0n : (sim.get(real) ?? BigInt(real)));
  const inBrk = (p: number): boolean => p >= trace.heapBase && p < trace.heapBase + 2 ** 36;
  let brkResults = 0;
  let brkResultsMatched = 0;
  let died = '';
  const t = trace.calls;
  let i = 0;
  for (; i < t.length && !died; i++) {
    const op = t.op[i];
    const a = t.a[i];
    const b = t.b[i];
    let r: { value: bigint; signal: string; message: string } | undefined;
    try {
    switch (op) {
      case OP.Malloc:
        r = (await c.heap.malloc({ target, size: BigInt(a) })).result;
        break;
      case OP.Calloc:
        r = (await c.heap.calloc({ target, nmemb: BigInt(a), size: BigInt(b) })).result;
        break;
      case OP.Realloc:
        r = (await c.heap.realloc({ target, ptr: ptr(a), size: BigInt(b) })).result;
        if (r && r.value !== 0n && a !== 0) sim.delete(a);
        break;
      case OP.Free:
        r = (await c.heap.free({ target, ptr: ptr(a) })).result;
        sim.delete(a);
        break;
      case OP.Memalign:
      case OP.AlignedAlloc:
      case OP.PosixMemalign:
        r = (await c.heap.memalign({ target, variant: VARIANT[op], alignment: BigInt(a), size: BigInt(b) })).result;
        break;
      case OP.Valloc:
      case OP.Pvalloc:
        r = (await c.heap.memalign({ target, variant: VARIANT[op], alignment: 0n, size: BigInt(a) })).result;
        break;
      case OP.Mallopt:
        r = (await c.heap.mallopt({ target, param: a, value: BigInt(b) })).result;
        break;
      case OP.MallocTrim:
        r = (await c.heap.mallocTrim({ target, pad: BigInt(a) })).result;
        break;
      case OP.Write:
        r = (await c.heap.write({ target, ptr: ptr(a), offset: BigInt(b), length: BigInt(t.c[i]) })).result;
        break;
      default:
        throw new Error(`${name}: call ${i} has op ${op}`);
    }
    } catch (e) {
      throw new Error(`${name}: call ${i} (op ${op} ${a} ${b} ${t.c[i]} = ${t.result[i]}): ${(e as Error).message}`);
    }
    if (!r) throw new Error(`${name}: call ${i}: no result`);
    if (r.signal) died = `call ${i}: ${r.signal} ${r.message}`;
    const returnsPointer = op !== OP.Free && op !== OP.Write && op !== OP.Mallopt && op !== OP.MallocTrim;
    if (returnsPointer && t.result[i] !== 0) {
      sim.set(t.result[i], r.value);
      if (inBrk(t.result[i])) {
        brkResults++;
        if (r.value === BigInt(t.result[i])) brkResultsMatched++;
      }
    }
  }
  // What heapprog-run measured, the way it measured it: mincore over [heap_base, brk) and over
  // each mmapped chunk live at exit (the zero page counted, as mincore counts it).
  const view = JSON.parse((await c.heap.inspectHeap({ target })).viewJson) as { brk: number; mmapped: { mapStart: number; mapEnd: number }[] };
  const mincore = async (addr: number, length: number): Promise<number> => {
    if (length <= 0) return 0;
    const r = await c.vma.syscall({ machine: m, pid, nr: 'mincore', args: [BigInt(addr), BigInt(length)], filePath: '', fileSize: 0n });
    if (r.result < 0n) throw new Error(`${name}: mincore(0x${addr.toString(16)}, ${length}) = ${r.errno}`);
    return Number(r.result);
  };
  const heapPages = await mincore(trace.heapBase, view.brk - trace.heapBase);
  let mmapPages = 0;
  for (const x of view.mmapped) mmapPages += await mincore(x.mapStart, x.mapEnd - x.mapStart);
  const after = smaps(await readText(c, m, `/proc/${pid}/smaps`));
  const heapRss = after.filter((v) => v.name === '[heap]').reduce((s, v) => s + v.rssKb / 4, 0);
  const anonRss = (vs: SmapsVma[]): number => vs.filter((v) => v.anon && v.name === '').reduce((s, v) => s + v.rssKb / 4, 0);
  return { trace, calls: i, brkResults, brkResultsMatched, died, heapPages, mmapPages, heapRss, mmapRss: anonRss(after) - anonRss(before) };
}
