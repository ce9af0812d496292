// Replay: rebuild every aggregate of a machine from its log by evolve(), recompute each state
// hash and each recorded decision, and stop at the first divergence
// (docs/architecture.md "The log").
import { SERVICES, type ServiceName } from '@mmsim/kernel';
import type { Envelope } from '@mmsim/proto';
import { fromEnvelopeEvent } from '../codecs/codec.js';
import { envelopeEventType } from '../codecs/envelope.js';
import type { EventLog, MachineRef } from '../event-log.js';
import { readLogFile, type ReadLogFileOptions } from '../file/log-file.js';
import type { ReplayRegistry } from './registry.js';

export interface Divergence {
  readonly seq: number;
  readonly service: string;
  /** The event's type ("PagesAllocated"). */
  readonly eventType: string;
  /** What the log says, and what replay got. */
  readonly expected: string;
  readonly got: string;
  readonly detail: string;
}

export interface ReplayedAggregate {
  readonly service: ServiceName;
  readonly lastServiceSeq: number;
  /** The state hash replay computed (or, for an aggregate it does not know, the last one recorded). */
  readonly stateHash: string;
  /** False when the registry has no entry for the service: its events were skipped. */
  readonly replayed: boolean;
}

export interface ReplayProgress {
  readonly envelopes: number;
  readonly seq: number;
}

export interface ReplayOptions {
  readonly registry: ReplayRegistry;
  /** Stop after this seq. */
  readonly toSeq?: number;
  /** Called every `progressEvery` envelopes (default 10000) and at the end. */
  readonly onProgress?: (p: ReplayProgress) => void;
  readonly progressEvery?: number;
}

export interface ReplayReport {
  readonly machine: MachineRef | undefined;
  readonly envelopes: number;
  readonly lastSeq: number;
  readonly aggregates: readonly ReplayedAggregate[];
  /** The first divergence; undefined when the log replays cleanly. */
  readonly divergence: Divergence | undefined;
  /** Each replayed aggregate's state where replay stopped (for a state-hash divergence, the state it computed). */
  readonly states: { readonly [S in ServiceName]?: unknown };
}

const describeError = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Replays envelopes (one machine's, in order). */
export async function replay(source: AsyncIterable<Envelope>, opts: ReplayOptions): Promise<ReplayReport> {
  const { registry } = opts;
  const every = opts.progressEvery ?? 10_000;
  const states: { [S in ServiceName]?: unknown } = {};
  for (const s of SERVICES) if (registry[s]) states[s] = registry[s]!.aggregate.initialState();
  const serviceSeqs = new Map<string, number>();
  const recordedHash = new Map<string, string>();
  let machine: MachineRef | undefined;
  let lastSeq = 0;
  let count = 0;
  let divergence: Divergence | undefined;

  for await (const env of source) {
    const seq = Number(env.seq);
    if (opts.toSeq !== undefined && seq > opts.toSeq) break;
    const diverge = (eventType: string, expected: string, got: string, detail: string) =>
      (divergence = { seq, service: env.service, eventType, expected, got, detail });
    const type = envelopeEventType(env);

    if (!machine) machine = { tenant: env.tenant, machine: env.machine };
    else if (env.tenant !== machine.tenant || env.machine !== machine.machine) {
      diverge(type, `${machine.tenant}/${machine.machine}`, `${env.tenant}/${env.machine}`, 'envelope of another machine');
      break;
    }
    if (seq !== lastSeq + 1) {
      diverge(type, `seq ${lastSeq + 1}`, `seq ${seq}`, 'seqs are not dense');
      break;
    }
    const wantServiceSeq = (serviceSeqs.get(env.service) ?? 0) + 1;
    if (Number(env.serviceSeq) !== wantServiceSeq) {
      diverge(type, `service_seq ${wantServiceSeq}`, `service_seq ${env.serviceSeq}`, `${env.service} service_seqs are not dense`);
      break;
    }
    if (!env.event || env.event.$case !== env.service) {
      diverge(type, `a ${env.service} event`, env.event ? `a ${env.event.$case} event` : 'no event', 'the event is not the service\'s');
      break;
    }

    const entry = registry[env.service as ServiceName];
    if (entry) {
      const service = env.service as ServiceName;
      let event: unknown;
      try {
        event = fromEnvelopeEvent(entry.codec, env.event);
      } catch (e) {
        diverge(type, 'a decodable event', describeError(e), 'the codec cannot read the event');
        break;
      }
      const eventType = entry.codec.eventType(event);
      const before = states[service];
      if (entry.verify) {
        let mismatch;
        try {
          mismatch = entry.verify(before, event);
        } catch (e) {
          diverge(eventType, 'the recorded decision', describeError(e), 're-deriving the decision failed');
          break;
        }
        if (mismatch) {
          diverge(eventType, mismatch.expected, mismatch.got, mismatch.detail ?? 'the recorded decision differs from the one replay made');
          break;
        }
      }
      let after: unknown;
      try {
        after = entry.aggregate.evolve(before, event);
      } catch (e) {
        diverge(eventType, 'evolve() to apply the event', describeError(e), 'evolve() threw');
        break;
      }
      const hash = entry.aggregate.stateHash(after);
      states[service] = after;
      if (hash !== env.stateHash) {
        diverge(eventType, env.stateHash, hash, `${service} state hash after the event differs`);
        break;
      }
    }
    serviceSeqs.set(env.service, wantServiceSeq);
    recordedHash.set(env.service, env.stateHash);
    lastSeq = seq;
    count++;
    if (opts.onProgress && count % every === 0) opts.onProgress({ envelopes: count, seq });
  }
  opts.onProgress?.({ envelopes: count, seq: lastSeq });

  const aggregates: ReplayedAggregate[] = [];
  for (const s of SERVICES) {
    const entry = registry[s];
    if (!entry && !serviceSeqs.has(s)) continue;
    aggregates.push({
      service: s,
      lastServiceSeq: serviceSeqs.get(s) ?? 0,
      stateHash: entry ? entry.aggregate.stateHash(states[s]) : (recordedHash.get(s) ?? ''),
      replayed: entry !== undefined,
    });
  }
  return { machine, envelopes: count, lastSeq, aggregates, divergence, states };
}

/** Replays a machine from a log (file or JetStream). */
export function replayMachine(log: EventLog, machine: MachineRef, opts: ReplayOptions): Promise<ReplayReport> {
  return replay(log.read(machine, { toSeq: opts.toSeq }), opts);
}

/** Replays a .mmlog file (an export or a golden log). */
export function replayFile(path: string, opts: ReplayOptions & ReadLogFileOptions): Promise<ReplayReport> {
  async function* envelopes() {
    for await (const r of readLogFile(path, opts)) yield* r.envelopes;
  }
  return replay(envelopes(), opts);
}
