// heaptrace v1: one line per malloc-family call, in call order (see README.md here). A parsed
// trace keeps its calls in columns (typed arrays), because real programs make hundreds of
// thousands of calls and a replay should not allocate an object per call.

export const enum Op {
  Malloc = 1,
  Calloc,
  Realloc,
  Free,
  Memalign,
  AlignedAlloc,
  PosixMemalign,
  Valloc,
  Pvalloc,
  Mallopt,
  MallocTrim,
  Write,
}

export const OP_NAMES: Readonly<Record<number, string>> = {
  [Op.Malloc]: 'malloc',
  [Op.Calloc]: 'calloc',
  [Op.Realloc]: 'realloc',
  [Op.Free]: 'free',
  [Op.Memalign]: 'memalign',
  [Op.AlignedAlloc]: 'aligned_alloc',
  [Op.PosixMemalign]: 'posix_memalign',
  [Op.Valloc]: 'valloc',
  [Op.Pvalloc]: 'pvalloc',
  [Op.Mallopt]: 'mallopt',
  [Op.MallocTrim]: 'malloc_trim',
  [Op.Write]: 'write',
};

export interface TraceMallinfo2 {
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

export const MALLINFO2_FIELDS = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'] as const;

export interface TraceResident {
  heapPages: number;
  mmapPages: number;
}

/**
 * The calls of a trace, column by column. For call i:
 *  - op[i]: what was called (Op);
 *  - tid[i]: 0 for the first thread, else the tid of its `t<tid>` prefix;
 *  - a[i], b[i], c[i]: the arguments in the order the line gives them (pointers as numbers):
 *      malloc/valloc/pvalloc: a = size;  calloc: a = nmemb, b = size;  realloc: a = old, b = size;
 *      free: a = ptr;  memalign/aligned_alloc/posix_memalign: a = alignment, b = size;
 *      mallopt: a = param, b = value;  malloc_trim: a = pad;  write: a = ptr, b = offset, c = len;
 *  - result[i]: the returned pointer, or the return value of mallopt/malloc_trim; NaN for
 *    calls without one (free, write).
 */
export interface TraceCalls {
  length: number;
  op: Uint8Array;
  tid: Float64Array;
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
  result: Float64Array;
}

export interface ParsedTrace {
  /** Comment lines (without the leading '#'), in order. */
  comments: string[];
  heapBase: number;
  calls: TraceCalls;
  mallinfo2: TraceMallinfo2 | null;
  finalBrk: number | null;
  resident: TraceResident | null;
}

export function emptyCalls(capacity = 1024): TraceCalls {
  return {
    length: 0,
    op: new Uint8Array(capacity),
    tid: new Float64Array(capacity),
    a: new Float64Array(capacity),
    b: new Float64Array(capacity),
    c: new Float64Array(capacity),
    result: new Float64Array(capacity),
  };
}

export function pushCall(t: TraceCalls, op: Op, tid: number, a: number, b: number, c: number, result: number): void {
  if (t.length === t.op.length) {
    const n = t.op.length * 2;
    const grow = <T extends Uint8Array | Float64Array>(x: T, make: (n: number) => T): T => {
      const y = make(n);
      y.set(x);
      return y;
    };
    t.op = grow(t.op, (k) => new Uint8Array(k));
    t.tid = grow(t.tid, (k) => new Float64Array(k));
    t.a = grow(t.a, (k) => new Float64Array(k));
    t.b = grow(t.b, (k) => new Float64Array(k));
    t.c = grow(t.c, (k) => new Float64Array(k));
    t.result = grow(t.result, (k) => new Float64Array(k));
  }
  const i = t.length++;
  t.op[i] = op;
  t.tid[i] = tid;
  t.a[i] = a;
  t.b[i] = b;
  t.c[i] = c;
  t.result[i] = result;
}

/** Whether the call's result is an address (as opposed to a return code or nothing). */
export const returnsPointer = (op: number): boolean => op !== Op.Free && op !== Op.Write && op !== Op.Mallopt && op !== Op.MallocTrim;
