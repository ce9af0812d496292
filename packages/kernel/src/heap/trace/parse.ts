// heaptrace v1 text -> ParsedTrace, and back.
import { emptyCalls, MALLINFO2_FIELDS, Op, OP_NAMES, pushCall, type ParsedTrace, type TraceCalls, type TraceMallinfo2 } from './types.js';

const OPS: Readonly<Record<string, Op>> = {
  malloc: Op.Malloc,
  calloc: Op.Calloc,
  realloc: Op.Realloc,
  free: Op.Free,
  memalign: Op.Memalign,
  aligned_alloc: Op.AlignedAlloc,
  posix_memalign: Op.PosixMemalign,
  valloc: Op.Valloc,
  pvalloc: Op.Pvalloc,
  mallopt: Op.Mallopt,
  malloc_trim: Op.MallocTrim,
  write: Op.Write,
};

export class TraceParseError extends Error {
  override readonly name = 'TraceParseError';
  constructor(readonly line: number, message: string) {
    super(`heaptrace line ${line}: ${message}`);
  }
}

/** A number in heaptrace: 0x hex for addresses, decimal (maybe negative) otherwise. */
function num(s: string, line: number): number {
  let v: number;
  if (s.startsWith('0x') || s.startsWith('0X')) v = parseInt(s.slice(2), 16);
  else v = Number(s);
  if (!Number.isFinite(v) || s.length === 0) throw new TraceParseError(line, `bad number '${s}'`);
  return v;
}

export function parseTrace(text: string): ParsedTrace {
  const comments: string[] = [];
  let heapBase = NaN;
  let finalBrk: number | null = null;
  let mallinfo2: TraceMallinfo2 | null = null;
  let resident: ParsedTrace['resident'] = null;
  const calls: TraceCalls = emptyCalls(Math.max(1024, text.length >> 5));
  let pos = 0;
  let lineNo = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    let line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if (line[0] === '#') {
      comments.push(line.slice(1));
      continue;
    }
    let tid = 0;
    if (line[0] === 't') {
      const sp = line.indexOf(' ');
      const t = Number(line.slice(1, sp));
      if (sp > 1 && Number.isInteger(t)) {
        tid = t;
        line = line.slice(sp + 1);
      }
    }
    const eq = line.indexOf(' = ');
    const head = eq >= 0 ? line.slice(0, eq) : line;
    const parts = head.split(' ');
    const kw = parts[0];
    switch (kw) {
      case 'heap_base':
        heapBase = num(parts[1], lineNo);
        continue;
      case 'final_brk':
        finalBrk = num(parts[1], lineNo);
        continue;
      case 'mallinfo2': {
        const m: Record<string, number> = {};
        for (const kv of parts.slice(1)) {
          const [k, v] = kv.split('=');
          m[k] = num(v, lineNo);
        }
        const out = {} as TraceMallinfo2;
        for (const f of MALLINFO2_FIELDS) out[f] = m[f] ?? 0;
        mallinfo2 = out;
        continue;
      }
      case 'resident': {
        const m: Record<string, number> = {};
        for (const kv of parts.slice(1)) {
          const [k, v] = kv.split('=');
          m[k] = num(v, lineNo);
        }
        resident = { heapPages: m.heap_pages ?? 0, mmapPages: m.mmap_pages ?? 0 };
        continue;
      }
    }
    const op = OPS[kw];
    if (op === undefined) throw new TraceParseError(lineNo, `unknown call '${kw}'`);
    const a = parts.length > 1 ? num(parts[1], lineNo) : 0;
    const b = parts.length > 2 ? num(parts[2], lineNo) : 0;
    const c = parts.length > 3 ? num(parts[3], lineNo) : 0;
    const result = eq >= 0 ? num(line.slice(eq + 3).trim(), lineNo) : NaN;
    pushCall(calls, op, tid, a, b, c, result);
  }
  if (Number.isNaN(heapBase)) throw new TraceParseError(lineNo, 'no heap_base line');
  return { comments, heapBase, calls, mallinfo2, finalBrk, resident };
}

const hex = (x: number): string => '0x' + x.toString(16);

/** One call as its heaptrace line. */
export function formatCall(t: TraceCalls, i: number): string {
  const op = t.op[i];
  const name = OP_NAMES[op];
  const tid = t.tid[i];
  const prefix = tid !== 0 ? `t${tid} ` : '';
  const a = t.a[i], b = t.b[i], c = t.c[i], r = t.result[i];
  switch (op) {
    case Op.Malloc:
    case Op.Valloc:
    case Op.Pvalloc:
      return `${prefix}${name} ${a} = ${hex(r)}`;
    case Op.Calloc:
    case Op.Memalign:
    case Op.AlignedAlloc:
    case Op.PosixMemalign:
      return `${prefix}${name} ${a} ${b} = ${hex(r)}`;
    case Op.Realloc:
      return `${prefix}${name} ${hex(a)} ${b} = ${hex(r)}`;
    case Op.Free:
      return `${prefix}${name} ${hex(a)}`;
    case Op.Mallopt:
      return `${prefix}${name} ${a} ${b} = ${r}`;
    case Op.MallocTrim:
      return `${prefix}${name} ${a} = ${r}`;
    case Op.Write:
      return `${prefix}${name} ${hex(a)} ${b} ${c}`;
    default:
      throw new Error(`formatCall: bad op ${op}`);
  }
}

/** The whole trace as heaptrace v1 text. */
export function formatTrace(t: ParsedTrace): string {
  const out: string[] = [];
  for (const c of t.comments) out.push('#' + c);
  out.push(`heap_base ${hex(t.heapBase)}`);
  for (let i = 0; i < t.calls.length; i++) out.push(formatCall(t.calls, i));
  if (t.mallinfo2) out.push('mallinfo2 ' + MALLINFO2_FIELDS.map((f) => `${f}=${t.mallinfo2![f]}`).join(' '));
  if (t.finalBrk !== null) out.push(`final_brk ${hex(t.finalBrk)}`);
  if (t.resident) out.push(`resident heap_pages=${t.resident.heapPages} mmap_pages=${t.resident.mmapPages}`);
  return out.join('\n') + '\n';
}
