// The OOM decisions of a machine, read back from its log: each with the seq that names it and
// the oom state it was taken in. The service's index reads the log once and later only what
// was appended since; decisionsOfLog() does the same over a decoded log (a file, an export).
import { eventCodecs, fromEnvelopeEvent, type AnyEventCodec, type EventLog, type MachineRef } from '@mmsim/eventlog';
import { notFound } from '@mmsim/kernel';
import { oom, type OomDecisionEvent, type OomEvent, type OomState, type WhatIfBase } from '@mmsim/kernel/oom';
import type { DecodedLog } from './what-if/records.js';

export interface RecordedDecision {
  readonly seq: number;
  readonly simTimeNs: number;
  readonly event: OomDecisionEvent | Extract<OomEvent, { type: 'UserspaceKill' }>;
  /** The oom state the decision was taken in (earlier victims not gone yet, kill count, totals): what-if decides again from it. */
  readonly before: Omit<WhatIfBase, 'request' | 'profile' | 'policy'>;
}

export type KernelDecision = RecordedDecision & { readonly event: OomDecisionEvent };

const DECISIONS = new Set(['OomKillDecided', 'OomNoKill', 'OomPanicked', 'UserspaceKill']);

/** Folds oom events into the decisions list, keeping the oom state evolved so far. */
class DecisionScan {
  readonly found: RecordedDecision[] = [];
  private state: OomState = oom.initialState();

  add(seq: number, simTimeNs: number, e: OomEvent): void {
    if (DECISIONS.has(e.type)) {
      const b = this.state;
      const before = { victims: b.victims, killSeq: b.killSeq, totalRamPages: b.totalRamPages, totalSwapPages: b.totalSwapPages };
      this.found.push({ seq, simTimeNs, event: e as RecordedDecision['event'], before });
    }
    this.state = oom.evolve(this.state, e);
  }
}

/** The decisions of a decoded log, in order. */
export function decisionsOfLog(log: DecodedLog): RecordedDecision[] {
  const scan = new DecisionScan();
  for (const r of log.records) if (r.service === 'oom') for (const env of r.envelopes) scan.add(env.seq, env.simTimeNs, env.event as OomEvent);
  return scan.found;
}

/** The kernel decision at `seq` (0: the last one) among `all`. */
export function findDecision(all: readonly RecordedDecision[], seq: number, machine: string): KernelDecision {
  const kernel = all.filter((d): d is KernelDecision => d.event.type !== 'UserspaceKill');
  if (kernel.length === 0) throw notFound('oom.NO_DECISION', `machine ${machine} has had no OOM decision yet`);
  if (seq === 0) return kernel[kernel.length - 1];
  const d = kernel.find((x) => x.seq === seq);
  if (!d) throw notFound('oom.NO_DECISION', `no OOM decision at seq ${seq} on machine ${machine} (decisions at: ${kernel.map((x) => x.seq).join(', ')})`);
  return d;
}

interface Scanned {
  next: number;
  readonly scan: DecisionScan;
  pending: Promise<void> | undefined;
}

export class DecisionIndex {
  private readonly machines = new Map<string, Scanned>();

  constructor(private readonly log: EventLog) {}

  async all(machine: MachineRef): Promise<readonly RecordedDecision[]> {
    const key = `${machine.tenant}/${machine.machine}`;
    let s = this.machines.get(key);
    if (!s) this.machines.set(key, (s = { next: 1, scan: new DecisionScan(), pending: undefined }));
    // One reader at a time per machine; a caller arriving meanwhile waits for it and reads on.
    while (s.pending) await s.pending;
    s.pending = this.read(machine, s).finally(() => {
      s!.pending = undefined;
    });
    await s.pending;
    return s.scan.found;
  }

  private async read(machine: MachineRef, s: Scanned): Promise<void> {
    const codec = eventCodecs.oom as AnyEventCodec<OomEvent>;
    for await (const env of this.log.read(machine, { fromSeq: s.next })) {
      s.next = Number(env.seq) + 1;
      if (env.service !== 'oom' || !env.event) continue;
      s.scan.add(Number(env.seq), Number(env.simTimeNs), fromEnvelopeEvent(codec, env.event) as OomEvent);
    }
  }

  /** The kernel decision at `seq` (0: the last one). */
  async find(machine: MachineRef, seq: number): Promise<KernelDecision> {
    return findDecision(await this.all(machine), seq, machine.machine);
  }
}
