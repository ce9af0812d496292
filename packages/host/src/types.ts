import type { ServiceName } from '@mmsim/kernel';
import type { LogPosition, MachineRef } from '@mmsim/eventlog';

/** What a host knows about the command it is handling. */
export interface CommandContext {
  /**
   * The request's id: given by the client (unique per machine) or derived by the service that
   * asked. A request id already applied to the machine is answered from the first run, not
   * decided again. Empty: no de-duplication.
   */
  readonly requestId: string;
  /** The seq of the event that caused this command (0: none). */
  readonly parentSeq?: number;
  /** Simulated time as the caller knows it. */
  readonly simTimeNs?: bigint;
  /** The caller's log position, so this service appends after it without a conflict. */
  readonly position?: LogPosition;
}

/** What a host passes along when it asks a service below for an answer. */
export interface AskContext {
  readonly machine: MachineRef;
  /** `<requestId>.<service>.<index>` (empty when the command had none): a retried command asks with the same ids. */
  readonly requestId: string;
  readonly parentSeq: number;
  readonly simTimeNs: bigint;
  readonly position: LogPosition;
}

export interface AskReply {
  readonly answer: unknown;
  /** The callee's position after its append. */
  readonly position?: LogPosition;
  readonly simTimeNs?: bigint;
}

/** Gets the answer to a Need from the service below (over the bus: busAsk()). */
export type AskFn = (service: ServiceName, request: unknown, ctx: AskContext) => Promise<AskReply>;

export interface HandleResult<E> {
  readonly events: readonly E[];
  /** aggregate.answer(command, events, stateAfter), or the events when the aggregate has no answer(). */
  readonly answer: unknown;
  /** The events' seqs (empty when the command produced none). */
  readonly seqs: readonly number[];
  /** The host's position after the command: send it back to the caller. */
  readonly position: LogPosition;
  readonly simTimeNs: bigint;
  /** Records of other services the append had to go after (0 when positions were passed along). */
  readonly missed: number;
  /** True when the request id had already been applied and this is the first run's result. */
  readonly duplicate: boolean;
}

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface RebuildProgress {
  readonly machine: MachineRef;
  readonly machinesDone: number;
  readonly machinesTotal: number;
  /** Envelopes read so far (all services), and this service's events applied so far. */
  readonly envelopes: number;
  readonly events: number;
}

export interface RebuildSummary {
  readonly machines: number;
  readonly envelopes: number;
  readonly events: number;
  readonly ms: number;
}
