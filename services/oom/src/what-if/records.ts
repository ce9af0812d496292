// A machine's log as decoded records: each record is one decision of one service (the unit
// the log appends), its envelopes decoded back into the aggregates' events.
import { eventCodecs, fromEnvelopeEvent, type AnyEventCodec, type LogRecord } from '@mmsim/eventlog';
import type { ServiceName } from '@mmsim/kernel';
import type { FramesEvent } from '@mmsim/kernel/frames';
import type { HeapEvent } from '@mmsim/kernel/heap';
import type { OomEvent } from '@mmsim/kernel/oom';
import type { VmEvent } from '@mmsim/kernel/vm';

export interface DecodedEnvelope {
  readonly seq: number;
  readonly simTimeNs: number;
  readonly stateHash: string;
  readonly event: unknown;
}

interface RecordBase<S extends ServiceName, E> {
  readonly service: S;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: readonly E[];
  readonly envelopes: readonly DecodedEnvelope[];
}

export type DecodedRecord =
  | RecordBase<'frames', FramesEvent>
  | RecordBase<'vma', VmEvent>
  | RecordBase<'oom', OomEvent>
  | RecordBase<'heap', HeapEvent>;

export interface DecodedLog {
  readonly machine: { readonly tenant: string; readonly machine: string };
  readonly records: readonly DecodedRecord[];
  readonly lastSeq: number;
  /** Each service's state hash after its last event in the log. */
  readonly lastHashes: Readonly<Partial<Record<ServiceName, string>>>;
}

const SERVICES: readonly ServiceName[] = ['frames', 'vma', 'oom', 'heap'];

/** Decodes every record (a record holds the events of one service). */
export async function decodeLog(records: AsyncIterable<LogRecord> | Iterable<LogRecord>): Promise<DecodedLog> {
  const out: DecodedRecord[] = [];
  const lastHashes: Partial<Record<ServiceName, string>> = {};
  let machine = { tenant: '', machine: '' };
  let lastSeq = 0;
  for await (const rec of records) {
    if (rec.envelopes.length === 0) continue;
    const service = rec.envelopes[0].service as ServiceName;
    if (!SERVICES.includes(service)) continue;
    const codec = eventCodecs[service] as AnyEventCodec<unknown>;
    const envelopes: DecodedEnvelope[] = rec.envelopes.map((env) => {
      if (env.service !== service) throw new Error(`seq ${env.seq}: a record mixes ${service} and ${env.service} events`);
      return { seq: Number(env.seq), simTimeNs: Number(env.simTimeNs), stateHash: env.stateHash, event: fromEnvelopeEvent(codec, env.event) };
    });
    if (!machine.machine && rec.envelopes[0].machine) machine = { tenant: rec.envelopes[0].tenant, machine: rec.envelopes[0].machine };
    const firstSeq = envelopes[0].seq;
    const last = envelopes[envelopes.length - 1];
    lastSeq = last.seq;
    lastHashes[service] = last.stateHash;
    out.push({ service, firstSeq, lastSeq: last.seq, events: envelopes.map((e) => e.event), envelopes } as DecodedRecord);
  }
  return { machine, records: out, lastSeq, lastHashes };
}
