// Reads a machine's raw JetStream messages (stream MMSIM, subject mmsim.evt.<tenant>.<machine>)
// with their headers, to check what the log protocol put there.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { decodeBatch } from '@mmsim/eventlog';
import type { Envelope } from '@mmsim/proto';

export interface RawRecord {
  readonly streamSeq: number;
  readonly msgId: string;
  readonly envelopes: Envelope[];
}

export async function rawRecords(natsUrl: string, tenant: string, machine: string): Promise<RawRecord[]> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const subject = `mmsim.evt.${tenant}.${machine}`;
    const out: RawRecord[] = [];
    for (let next = 1; ; ) {
      const m = await jsm.direct.getMessage('MMSIM', { next_by_subj: subject, seq: next });
      if (!m) break;
      out.push({ streamSeq: m.seq, msgId: m.header?.get('Nats-Msg-Id') ?? '', envelopes: decodeBatch(m.data) });
      next = m.seq + 1;
    }
    return out;
  } finally {
    await nc.close();
  }
}
