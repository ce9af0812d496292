// Compares a real heaptrace with a simulator's replay of it, with heapcmp.py's rules: the
// same calls in order (pointer arguments mapped real -> sim through earlier results), every
// result at the same offset from heap_base (or both mmapped, or both NULL), mallopt and
// malloc_trim returning the same, mallinfo2 equal, and resident pages equal when the real
// trace has them.
import { formatCall } from './parse.js';
import { MALLINFO2_FIELDS, Op, returnsPointer, type ParsedTrace } from './types.js';

export interface TraceComparison {
  readonly realOps: number;
  readonly simOps: number;
  readonly resultsCompared: number;
  readonly resultsMatched: number;
  readonly mallinfo2Equal: boolean;
  readonly residentEqual: boolean;
  readonly firstMismatch: { readonly op: number; readonly real: string; readonly sim: string; readonly why: string } | null;
  /** Everything matches. */
  readonly ok: boolean;
}

function where(addr: number, base: number, top: number | null): string {
  if (addr === 0) return 'NULL';
  if (top !== null && base <= addr && addr < top) return '0x' + (addr - base).toString(16);
  if (top === null && addr - base >= 0 && addr - base < 2 ** 32) return '0x' + (addr - base).toString(16);
  return 'mmapped';
}

/** Which arguments of a call are pointers (mapped through earlier results). */
const pointerArgs = (op: number): readonly ('a' | 'b' | 'c')[] => (op === Op.Free || op === Op.Realloc || op === Op.Write ? ['a'] : []);

export function compareTraces(real: ParsedTrace, sim: ParsedTrace): TraceComparison {
  const r = real.calls, s = sim.calls;
  const addrMap = new Map<number, number>([[0, 0]]);
  let compared = 0, matched = 0;
  let first: TraceComparison['firstMismatch'] = null;
  const n = Math.min(r.length, s.length);
  for (let i = 0; i < n; i++) {
    let same = r.op[i] === s.op[i] && r.tid[i] === s.tid[i];
    if (same) {
      const ptrs = pointerArgs(r.op[i]);
      for (const k of ['a', 'b', 'c'] as const) {
        const rv = r[k][i], sv = s[k][i];
        if (ptrs.includes(k)) {
          const mapped = addrMap.get(rv);
          if (mapped === undefined || mapped !== sv) same = false;
        } else if (rv !== sv) same = false;
      }
    }
    if (!same) {
      first ??= { op: i, real: formatCall(r, i), sim: formatCall(s, i), why: 'different call' };
      break;
    }
    const op = r.op[i];
    if (op === Op.Mallopt || op === Op.MallocTrim) {
      compared++;
      if (r.result[i] === s.result[i]) matched++;
      else first ??= { op: i, real: String(r.result[i]), sim: String(s.result[i]), why: formatCall(r, i) };
    } else if (returnsPointer(op)) {
      compared++;
      addrMap.set(r.result[i], s.result[i]);
      const rw = where(r.result[i], real.heapBase, real.finalBrk);
      const sw = where(s.result[i], sim.heapBase, sim.finalBrk);
      if (rw === sw) matched++;
      else first ??= { op: i, real: rw, sim: sw, why: formatCall(r, i) };
    }
  }
  const mallinfo2Equal = real.mallinfo2 !== null && sim.mallinfo2 !== null && MALLINFO2_FIELDS.every((f) => real.mallinfo2![f] === sim.mallinfo2![f]);
  const residentEqual =
    real.resident === null ||
    (sim.resident !== null && real.resident.heapPages === sim.resident.heapPages && real.resident.mmapPages === sim.resident.mmapPages);
  const ok = r.length === s.length && matched === compared && mallinfo2Equal && residentEqual;
  return { realOps: r.length, simOps: s.length, resultsCompared: compared, resultsMatched: matched, mallinfo2Equal, residentEqual, firstMismatch: first, ok };
}
