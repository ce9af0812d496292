// HeapService: glibc's API, one call per RPC, or batches on the Exec stream.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { isMalformed, machineOf, malformedError, num, pidOf, requestId, toServiceError, unary, type GrpcServiceRegistration } from '@mmsim/grpc';
import { invalid } from '@mmsim/kernel';
import { inspectHeap, type HeapCallCommand, type MemalignVariant } from '@mmsim/kernel/heap';
import { HeapServiceService, type ExecRequest, type ExecResponse, type HeapOp, type HeapResult, type HeapServiceServer, type HeapTarget } from '@mmsim/proto';
import type { HeapCall, HeapHost } from '../heap-service.js';
import { requireHeap } from '../heap-service.js';
import { heapResult } from '../results.js';

const VARIANTS: readonly MemalignVariant[] = ['memalign', 'aligned_alloc', 'posix_memalign', 'valloc', 'pvalloc'];
const MALLOPT_PARAMS = [1, -1, -2, -3, -4, -5, -6, -7, -8];

interface Target {
  readonly pid: number;
  readonly tid: number;
}

function targetOf(t: HeapTarget | undefined): Target {
  if (!t) throw invalid('heap.NO_TARGET', 'target (machine, pid) is required');
  const pid = pidOf(t.pid);
  return { pid, tid: t.tid === 0 ? pid : t.tid };
}

/**
 * A size_t argument. glibc takes any value, and returns NULL (ENOMEM) for one the address space
 * cannot hold; the model does the same up to 2^53-1 (malloc(2^50) is a NULL, and an event). It
 * takes sizes as exact numbers, so a larger one is refused as a bad call rather than run with a
 * rounded value (which glibc's path through consolidation, sysmalloc and the arena retry would
 * then record with wrong lengths).
 */
/**
 * A size_t argument as the model's number. Up to 2^53-1 it is exact. Beyond, no mapping that
 * large can exist on x86-64 (47-bit user space), so every such request takes the same path in
 * glibc (bins and top cannot serve it, mmap and brk fail: NULL, ENOMEM) and the model is given
 * 2^53-1 for it. From PTRDIFF_MAX + 1 (2^63) glibc refuses before looking at the heap
 * (checked_request2size): the model takes 2^63, a double it holds exactly, for all of those.
 */
function size(v: bigint, field: string): number {
  if (v < 0n) throw invalid('heap.INVALID_SIZE', `${field} ${v} is negative`);
  if (v >= 2n ** 63n) return 2 ** 63;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return num(v, field, 0);
}

/** One HeapOp (or unary request) as a model command. */
export function commandOf(op: HeapOp['op']): { target: HeapTarget | undefined; command: (t: Target) => HeapCallCommand } {
  if (!op) throw invalid('heap.EMPTY_OP', 'an Exec op has no operation');
  switch (op.$case) {
    case 'malloc':
      return { target: op.value.target, command: (t) => ({ type: 'Malloc', ...t, size: size(op.value.size, 'size') }) };
    case 'free':
      return { target: op.value.target, command: (t) => ({ type: 'Free', ...t, ptr: size(op.value.ptr, 'ptr') }) };
    case 'calloc':
      return { target: op.value.target, command: (t) => ({ type: 'Calloc', ...t, nmemb: size(op.value.nmemb, 'nmemb'), size: size(op.value.size, 'size') }) };
    case 'realloc':
      return { target: op.value.target, command: (t) => ({ type: 'Realloc', ...t, ptr: size(op.value.ptr, 'ptr'), size: size(op.value.size, 'size') }) };
    case 'memalign': {
      const variant = (op.value.variant === '' ? 'memalign' : op.value.variant) as MemalignVariant;
      if (!VARIANTS.includes(variant)) throw invalid('heap.INVALID_VARIANT', `variant must be one of ${VARIANTS.join(', ')}, got "${op.value.variant}"`);
      return { target: op.value.target, command: (t) => ({ type: 'Memalign', ...t, variant, alignment: size(op.value.alignment, 'alignment'), size: size(op.value.size, 'size') }) };
    }
    case 'write': {
      const v = op.value;
      return { target: v.target, command: (t) => ({ type: 'Write', ...t, ptr: size(v.ptr, 'ptr'), offset: size(v.offset, 'offset'), len: size(v.length, 'length') }) };
    }
    case 'mallopt': {
      const v = op.value;
      if (!MALLOPT_PARAMS.includes(v.param)) throw invalid('heap.INVALID_MALLOPT', `unknown mallopt parameter ${v.param} (M_MXFAST 1, M_TRIM_THRESHOLD -1 ... M_ARENA_MAX -8)`);
      const value = Number(v.value);
      if (value < -(2 ** 31) || value >= 2 ** 31) throw invalid('heap.INVALID_MALLOPT', `mallopt value ${v.value} does not fit a C int`);
      return { target: v.target, command: (t) => ({ type: 'Mallopt', ...t, param: v.param, value }) };
    }
    case 'mallocTrim':
      return { target: op.value.target, command: (t) => ({ type: 'MallocTrim', ...t, pad: size(op.value.pad, 'pad') }) };
  }
}

export function heapGrpc(host: HeapHost, call: HeapCall): GrpcServiceRegistration {
  const one = async (md: { metadata: import('@grpc/grpc-js').Metadata }, op: HeapOp['op']): Promise<HeapResult> => {
    const { target, command } = commandOf(op);
    const m = machineOf(md, target?.machine);
    const cmd = command(targetOf(target));
    return heapResult(await call(m, cmd, requestId(md)));
  };
  const simple = (type: 'MallocUsableSize' | 'Mallinfo2' | 'MallocStats') => async (req: { target?: HeapTarget; ptr?: bigint }, c: { metadata: import('@grpc/grpc-js').Metadata }) => {
    const m = machineOf(c, req.target?.machine);
    const t = targetOf(req.target);
    const cmd = type === 'MallocUsableSize' ? { type, ...t, ptr: size(req.ptr ?? 0n, 'ptr') } : { type, ...t };
    return call(m, cmd as HeapCallCommand, requestId(c));
  };
  const implementation: HeapServiceServer = {
    malloc: unary(async (req, c) => ({ result: await one(c, { $case: 'malloc', value: req }) })),
    free: unary(async (req, c) => ({ result: await one(c, { $case: 'free', value: req }) })),
    calloc: unary(async (req, c) => ({ result: await one(c, { $case: 'calloc', value: req }) })),
    realloc: unary(async (req, c) => ({ result: await one(c, { $case: 'realloc', value: req }) })),
    memalign: unary(async (req, c) => ({ result: await one(c, { $case: 'memalign', value: req }) })),
    mallopt: unary(async (req, c) => ({ result: await one(c, { $case: 'mallopt', value: req }) })),
    mallocTrim: unary(async (req, c) => ({ result: await one(c, { $case: 'mallocTrim', value: req }) })),
    write: unary(async (req, c) => ({ result: await one(c, { $case: 'write', value: req }) })),
    mallocUsableSize: unary(async (req, c) => ({ result: heapResult(await simple('MallocUsableSize')(req, c)) })),
    mallinfo2: unary(async (req, c) => {
      const r = await simple('Mallinfo2')(req, c);
      if (!r || r.kind !== 'mallinfo2') return { arena: 0n, ordblks: 0n, smblks: 0n, hblks: 0n, hblkhd: 0n, usmblks: 0n, fsmblks: 0n, uordblks: 0n, fordblks: 0n, keepcost: 0n };
      const i = r.mallinfo2;
      return { arena: BigInt(i.arena), ordblks: BigInt(i.ordblks), smblks: BigInt(i.smblks), hblks: BigInt(i.hblks), hblkhd: BigInt(i.hblkhd), usmblks: BigInt(i.usmblks), fsmblks: BigInt(i.fsmblks), uordblks: BigInt(i.uordblks), fordblks: BigInt(i.fordblks), keepcost: BigInt(i.keepcost) };
    }),
    mallocStats: unary(async (req, c) => {
      const r = await simple('MallocStats')(req, c);
      return { text: r && r.kind === 'stats' ? r.text : '' };
    }),
    inspectHeap: unary(async (req, c) => {
      const m = machineOf(c, req.target?.machine);
      const { pid } = targetOf(req.target);
      return { viewJson: host.query(m, (s) => JSON.stringify(inspectHeap(requireHeap(s, pid).ptmalloc.heap))) };
    }),
    exec: (stream: ServerDuplexStream<ExecRequest, ExecResponse>) => {
      // Batches run one after another, in order; a bad op fails the stream with its status
      // (the ops before it have run, as their results said).
      let chain = Promise.resolve();
      let failed = false;
      stream.on('data', (req: ExecRequest) => {
        chain = chain.then(async () => {
          if (failed) return;
          if (isMalformed(req)) {
            failed = true;
            stream.emit('error', malformedError(req));
            return;
          }
          try {
            const results: HeapResult[] = [];
            for (const op of req.ops) results.push(await one(stream, op.op));
            stream.write({ results });
          } catch (e) {
            failed = true;
            stream.emit('error', toServiceError(e, '/mmsim.v1.HeapService/Exec'));
          }
        });
      });
      stream.on('end', () => void chain.then(() => failed || stream.end()));
    },
  };
  return { definition: HeapServiceService, implementation };
}
