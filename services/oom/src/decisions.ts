// The OOM decisions of a machine, read back from its log: each with the seq that names it.
// The log is read once; later calls read only what was appended since.
import { eventCodecs, fromEnvelopeEvent, type AnyEventCodec, type EventLog, type MachineRef } from '@mmsim/eventlog';
import { notFound } from '@mmsim/kernel';
import type { OomDecisionEvent, OomEvent } from '@mmsim/kernel/oom';

export interface RecordedDecision {
  readonly seq: number;
  readonly simTimeNs: number;
  readonly event: OomDecisionEvent | Extract<OomEvent, { type: 'UserspaceKill' }>;
}

const DECISIONS = new Set(['OomKillDecided', 'OomNoKill', 'OomPanicked', 'UserspaceKill']);

interface Scanned {
  next: number;
  readonly found: RecordedDecision[];
  pending: Promise<void> | undefined;
}

export class DecisionIndex {
  private readonly machines = new Map<string, Scanned>();

  constructor(private readonly log: EventLog) {}

  async all(machine: MachineRef): Promise<readonly RecordedDecision[]> {
    const key = `${machine.tenant}/${machine.machine}`;
    let s = this.machines.get(key);
    if (!s) this.machines.set(key, (s = { next: 1, found: [], pending: undefined }));
    // One reader at a time per machine; a caller arriving meanwhile waits for it and reads on.
    while (s.pending) await s.pending;
    s.pending = this.scan(machine, s).finally(() => {
      s!.pending = undefined;
    });
    await s.pending;
    return s.found;
  }

  private async scan(machine: MachineRef, s: Scanned): Promise<void> {
    const codec = eventCodecs.oom as AnyEventCodec<OomEvent>;
    for await (const env of this.log.read(machine, { fromSeq: s.next })) {
      s.next = Number(env.seq) + 1;
      if (env.service !== 'oom' || !env.event) continue;
      const e = fromEnvelopeEvent(codec, env.event) as OomEvent;
      if (DECISIONS.has(e.type)) s.found.push({ seq: Number(env.seq), simTimeNs: Number(env.simTimeNs), event: e as RecordedDecision['event'] });
    }
  }

  /** The kernel decision at `seq` (0: the last one). */
  async find(machine: MachineRef, seq: number): Promise<RecordedDecision & { event: OomDecisionEvent }> {
    const all = (await this.all(machine)).filter((d): d is RecordedDecision & { event: OomDecisionEvent } => d.event.type !== 'UserspaceKill');
    if (all.length === 0) throw notFound('oom.NO_DECISION', `machine ${machine.machine} has had no OOM decision yet`);
    if (seq === 0) return all[all.length - 1];
    const d = all.find((x) => x.seq === seq);
    if (!d) throw notFound('oom.NO_DECISION', `no OOM decision at seq ${seq} (decisions at: ${all.map((x) => x.seq).join(', ')})`);
    return d;
  }
}
