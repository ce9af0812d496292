// A host's Needs over the bus. The caller's side is busAsk(bus): an AskFn that sends the
// request to `mmsim.rpc.<service>.<op>`. The callee's side is serveHost(bus, host): handles
// each request as a command and replies with the answer. Both carry the log position and the
// simulated time, so a chain of calls appends without conflicts and keeps one clock.
//
// Wire (JSON, see packages/bus/src/wire.ts):
//   request  { machine: { tenant, machine }, request, requestId, parentSeq, simTimeNs (bigint), position }
//   reply    { answer, position, simTimeNs (bigint) }
import { rpcSubject, type Bus, type Subscription } from '@mmsim/bus';
import { isLogPosition, type LogPosition, type MachineRef } from '@mmsim/eventlog';
import type { ServiceName } from '@mmsim/kernel';
import type { AggregateHost } from './aggregate-host.js';
import type { AskFn, AskReply } from './types.js';

export interface AskWire {
  readonly machine: MachineRef;
  readonly request: unknown;
  readonly requestId: string;
  readonly parentSeq: number;
  readonly simTimeNs: bigint;
  readonly position: LogPosition;
}

export interface AskReplyWire {
  readonly answer: unknown;
  readonly position: LogPosition;
  readonly simTimeNs: bigint;
}

/** The default op of a Need's request: `mmsim.rpc.<service>.command`. */
export const DEFAULT_COMMAND_OP = 'command';

export interface BusAskOptions {
  /** The op a request goes to (default: 'command' for every request). */
  readonly op?: (service: ServiceName, request: unknown) => string;
  readonly timeoutMs?: number;
}

export class BadAskError extends Error {
  override readonly name = 'BadAskError';
}

/** An AskFn that asks over the bus. */
export function busAsk(bus: Bus, opts: BusAskOptions = {}): AskFn {
  return async (service, request, ctx): Promise<AskReply> => {
    const subject = rpcSubject(service, opts.op ? opts.op(service, request) : DEFAULT_COMMAND_OP);
    const wire: AskWire = {
      machine: { tenant: ctx.machine.tenant, machine: ctx.machine.machine },
      request,
      requestId: ctx.requestId,
      parentSeq: ctx.parentSeq,
      simTimeNs: ctx.simTimeNs,
      position: ctx.position,
    };
    const reply = (await bus.request(subject, wire, { timeoutMs: opts.timeoutMs })) as Partial<AskReplyWire> | null;
    if (typeof reply !== 'object' || reply === null || !('answer' in reply)) throw new BadAskError(`${subject}: malformed reply`);
    return {
      answer: reply.answer,
      position: isLogPosition(reply.position) ? reply.position : undefined,
      simTimeNs: typeof reply.simTimeNs === 'bigint' ? reply.simTimeNs : undefined,
    };
  };
}

export interface ServeHostOptions<C> {
  /** Default 'command'. */
  readonly op?: string;
  /** The command of a request (default: the request as it is). Throw a Rejection for a bad one. */
  readonly toCommand?: (request: unknown) => C;
  /** Default: the service name, so instances of a service share requests. */
  readonly queue?: string;
  /**
   * Requests that only read (frames' GetTotals...): return the read for such a request, and it
   * is answered from the committed state without entering the machine's queue or the log.
   */
  readonly queryOf?: (request: unknown) => ((state: never) => unknown) | undefined;
}

function parseAsk(payload: unknown): AskWire {
  const p = payload as Partial<AskWire> | null;
  const m = p?.machine as Partial<MachineRef> | undefined;
  if (typeof p !== 'object' || p === null || typeof m?.tenant !== 'string' || typeof m.machine !== 'string') {
    throw new BadAskError('request without machine');
  }
  return {
    machine: { tenant: m.tenant, machine: m.machine },
    request: p.request,
    requestId: typeof p.requestId === 'string' ? p.requestId : '',
    parentSeq: typeof p.parentSeq === 'number' ? p.parentSeq : 0,
    simTimeNs: typeof p.simTimeNs === 'bigint' ? p.simTimeNs : 0n,
    position: isLogPosition(p.position) ? p.position : { seq: 0, streamSeq: 0, serviceSeqs: {} },
  };
}

/** Serves a host's commands on `mmsim.rpc.<service>.<op>`. */
export function serveHost<C, E, S>(bus: Bus, host: AggregateHost<C, E, S>, opts: ServeHostOptions<C> = {}): Promise<Subscription> {
  return bus.serve(
    rpcSubject(host.service, opts.op ?? DEFAULT_COMMAND_OP),
    async (payload): Promise<AskReplyWire> => {
      const ask = parseAsk(payload);
      const read = opts.queryOf?.(ask.request);
      if (read) {
        const answer = host.query(ask.machine, read as (state: S) => unknown);
        return { answer, position: host.position(ask.machine), simTimeNs: ask.simTimeNs };
      }
      const command = opts.toCommand ? opts.toCommand(ask.request) : (ask.request as C);
      const r = await host.handle(ask.machine, command, {
        requestId: ask.requestId,
        parentSeq: ask.parentSeq,
        simTimeNs: ask.simTimeNs,
        position: ask.position,
      });
      return { answer: r.answer, position: r.position, simTimeNs: r.simTimeNs };
    },
    { queue: opts.queue ?? host.service },
  );
}
