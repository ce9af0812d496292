// mmsim.v1.LogService over an EventLog: Tail, Export, Replay (proto/mmsim/v1/log.proto).
// all-in-one serves it over its file log; a distributed deployment over JetStream.
import { mkdirSync } from 'node:fs';
import type { Metadata } from '@grpc/grpc-js';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { checkToken } from '@mmsim/bus';
import { exportChunks, replayFile, replayMachine, type EventLog, type MachineRef, type ReplayRegistry, type ReplayReport } from '@mmsim/eventlog';
import { invalid, notFound, precondition, Rejection } from '@mmsim/kernel';
import { LogServiceService, type ExportResponse, type LogServiceServer, type MachineRef as MachineRefProto, type ReplayResponse, type TailResponse } from '@mmsim/proto';
import { machineOf as edgeMachineOf } from './edge.js';
import { serverStream, unary } from './handlers.js';
import type { GrpcServiceRegistration } from './server.js';
import type { ErrorLogger } from './status.js';

export interface LogServiceOptions {
  readonly log: EventLog;
  /** The aggregates Replay rebuilds (replayEntry per service). */
  readonly registry: ReplayRegistry;
  /** Export writes and Replay reads files only inside this directory. Absent: Export only streams, Replay only reads the live log. */
  readonly exportDir?: string;
  readonly logger?: ErrorLogger;
}

/**
 * The machine a request names, which must be the caller's tenant's (an empty tenant means the
 * caller's, as on every other service: edge.ts machineOf). A log is as private as the machine.
 */
function machineOf(call: { readonly metadata: Metadata }, m: MachineRefProto | undefined): MachineRef {
  if (!m) throw invalid('log.NO_MACHINE', 'machine is required');
  try {
    if (m.tenant !== '') checkToken('tenant', m.tenant);
    checkToken('machine', m.machine);
  } catch (e) {
    throw invalid('log.BAD_MACHINE', (e as Error).message);
  }
  return edgeMachineOf(call, m);
}

/** A client-given path resolved inside the export directory. */
function inside(exportDir: string | undefined, path: string): string {
  if (!exportDir) throw precondition('log.NO_EXPORT_DIR', 'this server has no export directory');
  const root = resolve(exportDir);
  const abs = resolve(root, path);
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Rejection('log.PATH_OUTSIDE_EXPORT_DIR', 'permission', `${path} is not inside the export directory`);
  }
  return abs;
}

const seqLimit = (v: bigint): number | undefined => (v === 0n ? undefined : Number(v));

function replayResponse(r: ReplayReport): ReplayResponse {
  return {
    machine: r.machine ? { tenant: r.machine.tenant, machine: r.machine.machine } : undefined,
    envelopes: BigInt(r.envelopes),
    lastSeq: BigInt(r.lastSeq),
    aggregates: r.aggregates.map((a) => ({ service: a.service, lastServiceSeq: BigInt(a.lastServiceSeq), stateHash: a.stateHash, replayed: a.replayed })),
    divergence: r.divergence && {
      seq: BigInt(r.divergence.seq),
      service: r.divergence.service,
      eventType: r.divergence.eventType,
      expected: r.divergence.expected,
      got: r.divergence.got,
      detail: r.divergence.detail,
    },
  };
}

export function logService(opts: LogServiceOptions): GrpcServiceRegistration {
  const { log, registry, exportDir, logger } = opts;
  const implementation: LogServiceServer = {
    tail: serverStream(async function* (req, signal, call): AsyncGenerator<TailResponse> {
      const m = machineOf(call, req.machine);
      // Following a machine that does not exist would wait silently forever (a typo'd name).
      if (!(await log.tip(m))) throw notFound('log.NO_SUCH_MACHINE', `${m.tenant}/${m.machine} has no log`);
      for await (const envelope of log.tail(m, { fromSeq: Number(req.fromSeq), signal })) yield { envelope };
    }, { logger }),

    export: serverStream(async function* (req, _signal, call): AsyncGenerator<ExportResponse> {
      const m = machineOf(call, req.machine);
      if (!(await log.tip(m))) throw notFound('log.NO_SUCH_MACHINE', `${m.tenant}/${m.machine} has no log`);
      const path = req.path === '' ? undefined : inside(exportDir, req.path);
      const tmp = `${path}.tmp-${process.pid}`;
      let file;
      if (path) {
        mkdirSync(dirname(path), { recursive: true });
        file = await open(tmp, 'w');
      }
      let complete = false;
      try {
        for await (const c of exportChunks(log, m, { toSeq: seqLimit(req.toSeq) })) {
          await file?.write(c.chunk);
          yield { chunk: c.chunk, records: BigInt(c.records), envelopes: BigInt(c.envelopes), lastSeq: BigInt(c.lastSeq) };
        }
        await file?.datasync();
        complete = true;
      } finally {
        await file?.close();
        // A cancelled or failed export leaves no file behind; a complete one appears whole.
        if (path) await (complete ? rename(tmp, path) : rm(tmp, { force: true }));
      }
    }, { logger }),

    replay: unary(async (req, call) => {
      const toSeq = seqLimit(req.toSeq);
      const source = req.source;
      if (!source) throw invalid('log.NO_SOURCE', 'give a path or a machine');
      if (source.$case === 'path') return replayResponse(await replayFile(inside(exportDir, source.value), { registry, toSeq }));
      const m = machineOf(call, source.value);
      if (!(await log.tip(m))) throw notFound('log.NO_SUCH_MACHINE', `${m.tenant}/${m.machine} has no log`);
      return replayResponse(await replayMachine(log, m, { registry, toSeq }));
    }, { logger }),
  };
  return { definition: LogServiceService, implementation };
}
