// The OOM decisions of a machine, read back from its log: each with the seq that names it.
import { eventCodecs, fromEnvelopeEvent, type AnyEventCodec, type EventLog, type MachineRef } from '@mmsim/eventlog';
import { notFound } from '@mmsim/kernel';
import type { OomDecisionEvent, OomEvent } from '@mmsim/kernel/oom';

export interface RecordedDecision {
  readonly seq: number;
  readonly simTimeNs: number;
  readonly event: OomDecisionEvent | Extract<OomEvent, { type: 'UserspaceKill' }>;
}

const DECISIONS = new Set(['OomKillDecided', 'OomNoKill', 'OomPanicked', 'UserspaceKill']);

export async function recordedDecisions(log: EventLog, machine: MachineRef, toSeq?: number): Promise<RecordedDecision[]> {
  const out: RecordedDecision[] = [];
  const codec = eventCodecs.oom as AnyEventCodec<OomEvent>;
  for await (const env of log.read(machine, { toSeq })) {
    if (env.service !== 'oom' || !env.event) continue;
    const e = fromEnvelopeEvent(codec, env.event) as OomEvent;
    if (DECISIONS.has(e.type)) out.push({ seq: Number(env.seq), simTimeNs: Number(env.simTimeNs), event: e as RecordedDecision['event'] });
  }
  return out;
}

/** The decision at `seq` (0: the last kernel decision). */
export async function findDecision(log: EventLog, machine: MachineRef, seq: number): Promise<RecordedDecision & { event: OomDecisionEvent }> {
  const all = (await recordedDecisions(log, machine)).filter((d): d is RecordedDecision & { event: OomDecisionEvent } => d.event.type !== 'UserspaceKill');
  if (all.length === 0) throw notFound('oom.NO_DECISION', `machine ${machine.machine} has had no OOM decision yet`);
  if (seq === 0) return all[all.length - 1];
  const d = all.find((x) => x.seq === seq);
  if (!d) throw notFound('oom.NO_DECISION', `no OOM decision at seq ${seq} (decisions at: ${all.map((x) => x.seq).join(', ')})`);
  return d;
}
