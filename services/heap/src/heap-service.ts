// The heap service: every process's glibc allocator in a host. It asks vma for system calls
// and page touches (Needs over the bus), and learns a process (its initial break, its
// environment) from vma the first time the process calls.
import type { Bus, Subscription } from '@mmsim/bus';
import { rpcSubject } from '@mmsim/bus';
import { eventCodecs, isLogPosition, type AnyEventCodec, type EventLog, type MachineRef } from '@mmsim/eventlog';
import type { GrpcServiceRegistration, ProcReader } from '@mmsim/grpc';
import { busAsk, createAggregateHost, type AggregateHost, type HostLogger } from '@mmsim/host';
import { notFound, precondition } from '@mmsim/kernel';
import { heap, type HeapCallCommand, type HeapCallResult, type HeapCommand, type HeapEvent, type HeapState } from '@mmsim/kernel/heap';
import type { GoneSummary, ProcessSummary } from '@mmsim/service-vma';
import { heapGrpc } from './grpc/heap-grpc.js';
import { processEnded } from './results.js';

export type HeapHost = AggregateHost<HeapCommand, HeapEvent, HeapState>;

/** The heap asks vma which of its processes have ended once per this many of its own events. */
export const SWEEP_EVERY = 256;

const SIGABRT = 6;
const SIGSEGV = 11;

export interface HeapServiceOptions {
  readonly log: EventLog;
  readonly bus: Bus;
  readonly logger?: HostLogger;
  readonly askTimeoutMs?: number;
}

export interface HeapCall {
  (machine: MachineRef, command: HeapCallCommand, requestId: string): Promise<HeapCallResult | undefined>;
}

export interface HeapService {
  readonly host: HeapHost;
  readonly grpc: readonly GrpcServiceRegistration[];
  readonly proc: ProcReader;
  /** Runs one allocator call for a live process (taking the process on first). */
  readonly call: HeapCall;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createHeapService(opts: HeapServiceOptions): HeapService {
  const ask = busAsk(opts.bus, { timeoutMs: opts.askTimeoutMs ?? 30_000 });
  const host = createAggregateHost<HeapCommand, HeapEvent, HeapState>({
    aggregate: heap,
    codec: eventCodecs.heap as AnyEventCodec<HeapEvent>,
    log: opts.log,
    ask,
    logger: opts.logger,
  });
  const subs: Subscription[] = [];

  const processInfo = async (m: MachineRef, pid: number): Promise<ProcessSummary> =>
    (await opts.bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'Process', pid } })) as ProcessSummary;

  /** The process is alive on vma, and the heap knows it (forgetting it if vma says it is gone). */
  const ensure = async (m: MachineRef, pid: number, rid: string): Promise<void> => {
    const p = await processInfo(m, pid);
    const known = host.query(m, (s) => s.procs.has(pid));
    const position = isLogPosition(p.position) ? p.position : undefined;
    if (!p.alive) {
      if (known) await host.handle(m, { type: 'ForgetProcess', pid, reason: p.exit || 'gone' }, { requestId: rid === '' ? '' : `${rid}.forget`, position });
      throw precondition('heap.PROCESS_GONE', `process ${pid} (${p.name}) is gone: ${p.exit || 'exited'}`);
    }
    if (!known) {
      const overcommitMemory = ((await opts.bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'Machine' } })) as { sysctl: { overcommit_memory?: number } }).sysctl.overcommit_memory ?? 0;
      await host.handle(m, { type: 'CreateHeap', pid, brkStart: p.brkStart, env: p.env, cpus: p.cpus, overcommitMemory }, { requestId: rid === '' ? '' : `${rid}.create`, position });
    }
  };

  /**
   * Forgets the processes vma has seen end (an OOM kill of another process, a Kill or Exit sent
   * to vma): without it a dead process's heap (its memory contents) would be held until a call
   * of its own that never comes. It runs when the heap's own service_seq crosses a multiple of
   * SWEEP_EVERY during a call, a point that depends only on the log, so the same calls forget at
   * the same place (byte-identical logs, and the same after a restart rebuilt from the log).
   */
  const sweep = async (m: MachineRef, rid: string): Promise<void> => {
    const known = host.query(m, (s) => [...s.procs.keys()]);
    if (known.length === 0) return;
    const a = (await opts.bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'Gone', pids: known } })) as GoneSummary;
    const position = isLogPosition(a.position) ? a.position : undefined;
    for (const g of a.gone) {
      if (!host.query(m, (s) => s.procs.has(g.pid))) continue;
      await host.handle(m, { type: 'ForgetProcess', pid: g.pid, reason: g.exit || 'gone' }, { requestId: rid === '' ? '' : `${rid}.sweep.${g.pid}`, position });
    }
  };
  const ownSeq = (m: MachineRef): number => host.position(m).serviceSeqs.heap ?? 0;

  const call: HeapCall = async (m, command, rid) => {
    const seqBefore = ownSeq(m);
    const result = await callOnce(m, command, rid);
    if (Math.floor(seqBefore / SWEEP_EVERY) !== Math.floor(ownSeq(m) / SWEEP_EVERY)) await sweep(m, rid);
    return result;
  };

  const callOnce: HeapCall = async (m, command, rid) => {
    await ensure(m, command.pid, rid);
    const r = await host.handle(m, command, { requestId: rid });
    const result = r.answer as HeapCallResult | undefined;
    if (processEnded(result) && host.query(m, (s) => s.procs.has(command.pid))) {
      // glibc's abort() (or a fault in the allocator) ends the process in the kernel too: its
      // memory goes back. A SIGKILL came from vma already; a hung process spins on, still alive.
      const signal = result!.kind === 'aborted' ? SIGABRT : result!.kind === 'crashed' ? SIGSEGV : 0;
      let position = r.position;
      if (signal) {
        const reply = await ask('vma', { type: 'Exit', pid: command.pid, signal }, { machine: m, requestId: rid === '' ? '' : `${rid}.exit`, parentSeq: 0, simTimeNs: r.simTimeNs, position: r.position });
        position = reply.position ?? position;
      }
      await host.handle(m, { type: 'ForgetProcess', pid: command.pid, reason: result!.kind }, { requestId: rid === '' ? '' : `${rid}.forget`, position });
    }
    return result;
  };

  return {
    host,
    call,
    grpc: [heapGrpc(host, call)],
    proc: () => undefined,
    async start() {
      await host.start();
    },
    async close() {
      for (const s of subs) await s.stop();
      await host.close();
    },
  };
}

export function requireHeap(s: HeapState, pid: number) {
  const e = s.procs.get(pid);
  if (!e) throw notFound('heap.NO_SUCH_PROCESS', `process ${pid} has made no allocator call yet`);
  return e;
}
