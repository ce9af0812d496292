// A machine's log: follow it, copy it out, check it by replay.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { connectJetStreamEventLog, envelopeEventType, replayFile, replayMachine, type ReplayReport } from '@mmsim/eventlog';
import { replayRegistry } from '@mmsim/service-all-in-one';
import type { Envelope, TailResponse, ExportResponse } from '@mmsim/proto';
import { UsageError } from '../args.js';
import { clientCommand } from '../client-command.js';
import { MACHINE_OPTION, machineOf } from '../client-options.js';
import type { Command } from '../command.js';
import type { Io } from '../io.js';

/** The raw streaming clients send no metadata of their own: a machine's log is its tenant's. */
function tenantMetadata(tenant: string): Metadata {
  const md = new Metadata();
  md.set('mmsim-tenant', tenant);
  return md;
}

export function envelopeLine(e: Envelope): string {
  const t = (Number(e.simTimeNs) / 1e9).toFixed(6);
  const cause = e.cause?.parentSeq ? ` <- ${e.cause.parentSeq}` : '';
  return `${String(e.seq).padStart(7)}  ${t.padStart(12)}s  ${e.service.padEnd(6)} ${String(e.serviceSeq).padStart(6)}  ${envelopeEventType(e).padEnd(22)} ${e.stateHash}${cause}`;
}

export const tail = clientCommand({
  name: 'tail',
  summary: "follow a machine's event log: what it holds, then new events as they happen (Ctrl-C stops)",
  options: [
    MACHINE_OPTION,
    { name: 'from', type: 'number', valueName: 'SEQ', description: 'the first seq to show', default: 1 },
    { name: 'count', short: 'n', type: 'number', description: 'stop after this many events' },
    { name: 'json', type: 'boolean', description: 'one JSON envelope per line' },
  ],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const limit = args.options.count as number | undefined;
    const call = client.raw.log.tail({ machine, fromSeq: BigInt(args.options.from as number) }, tenantMetadata(client.tenant));
    let n = 0;
    const stop = () => call.cancel();
    process.once('SIGINT', stop);
    try {
      for await (const r of call as AsyncIterable<TailResponse>) {
        if (!r.envelope) continue;
        io.out((args.options.json ? JSON.stringify(r.envelope, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : envelopeLine(r.envelope)) + '\n');
        if (limit !== undefined && ++n >= limit) break;
      }
    } catch (e) {
      if ((e as { code?: number }).code !== 1) throw e; // 1: cancelled by us
    } finally {
      process.off('SIGINT', stop);
      call.cancel();
    }
    return 0;
  },
});

export const exportLog = clientCommand({
  name: 'export',
  summary: "copy a machine's log (file or JetStream) to a local .mmlog file",
  options: [MACHINE_OPTION, { name: 'out', short: 'o', type: 'string', valueName: 'FILE', description: 'where to write (default <machine>.mmlog)' }, { name: 'until', type: 'number', valueName: 'SEQ', description: 'stop after this seq' }],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const path = (args.options.out as string | undefined) ?? `${machine.machine}.mmlog`;
    const call = client.raw.log.export({ machine, path: '', toSeq: BigInt((args.options.until as number | undefined) ?? 0) }, tenantMetadata(client.tenant));
    const out = createWriteStream(path);
    let last: ExportResponse | undefined;
    for await (const chunk of call as AsyncIterable<ExportResponse>) {
      if (!out.write(chunk.chunk)) await once(out, 'drain');
      last = chunk;
    }
    out.end();
    await once(out, 'finish');
    io.out(`wrote ${path}: ${last?.envelopes ?? 0} events in ${last?.records ?? 0} records, last seq ${last?.lastSeq ?? 0}\n`);
    return 0;
  },
});

function printReport(r: ReplayReport, io: Io, json: boolean): number {
  if (json) {
    io.out(JSON.stringify({ machine: r.machine, envelopes: r.envelopes, lastSeq: r.lastSeq, aggregates: r.aggregates, divergence: r.divergence ?? null }, null, 2) + '\n');
    return r.divergence ? 1 : 0;
  }
  const m = r.machine ? `${r.machine.tenant}/${r.machine.machine}` : '(empty log)';
  io.out(`replayed ${r.envelopes} events of ${m} up to seq ${r.lastSeq}\n`);
  for (const a of r.aggregates) io.out(`  ${a.service.padEnd(7)} service_seq ${String(a.lastServiceSeq).padStart(7)}  state ${a.stateHash}${a.replayed ? '' : '  (not replayed: unknown aggregate)'}\n`);
  if (!r.divergence) {
    io.out('every state hash and every recorded decision reproduced\n');
    return 0;
  }
  const d = r.divergence;
  io.out(`DIVERGENCE at seq ${d.seq} (${d.service} ${d.eventType})\n  log says:    ${d.expected}\n  replay got:  ${d.got}\n${d.detail ? `  ${d.detail}\n` : ''}`);
  return 1;
}

export const replay: Command = {
  name: 'replay',
  summary: 'rebuild every aggregate of a machine from a log, recompute each state hash and decision, report the first divergence',
  description: 'Reads a .mmlog file (embedded mode, or `mmsim export`), or with --jetstream the live JetStream log of a machine. Exit code 1 when the log diverges.',
  options: [
    { name: 'until', type: 'number', valueName: 'SEQ', description: 'stop after this seq' },
    { name: 'jetstream', type: 'string', valueName: 'NATS_URL', description: 'replay the machine LOG names from JetStream instead of a file (LOG is then TENANT/MACHINE or MACHINE)' },
    { name: 'json', type: 'boolean', description: 'print the report as JSON' },
  ],
  positionals: [{ name: 'log', required: true, description: 'a .mmlog file, or TENANT/MACHINE with --jetstream' }],
  examples: ['mmsim replay .mmsim/log/default/demo.mmlog', 'mmsim replay demo.mmlog --until 120', 'mmsim replay default/demo --jetstream nats://127.0.0.1:4222'],
  async run(args, io) {
    const source = args.positionals.log as string;
    const toSeq = args.options.until as number | undefined;
    if (toSeq !== undefined && (!Number.isInteger(toSeq) || toSeq < 1)) throw new UsageError('mmsim replay: --until takes a seq >= 1');
    const onProgress = io.isTty ? (p: { seq: number }) => io.err(`\rreplayed to seq ${p.seq}`) : undefined;
    let report: ReplayReport;
    if (args.options.jetstream) {
      const [tenant, machine] = source.includes('/') ? source.split('/', 2) : ['default', source];
      const log = await connectJetStreamEventLog({ servers: (args.options.jetstream as string).split(',') });
      try {
        // An unknown machine has an empty log, which would "replay cleanly": say it is not there.
        if (!(await log.tip({ tenant, machine }))) {
          io.err(`mmsim replay: JetStream has no log for ${tenant}/${machine}\n`);
          return 1;
        }
        report = await replayMachine(log, { tenant, machine }, { registry: replayRegistry(), toSeq, onProgress });
      } finally {
        await log.close();
      }
    } else {
      report = await replayFile(source, { registry: replayRegistry(), toSeq, onProgress });
    }
    if (onProgress) io.err('\n');
    return printReport(report, io, args.options.json === true);
  },
};
