// heap calls through gRPC in the distributed mode: the four services as four processes over
// NATS (request/reply between them, the JetStream log), malloc/free per second unary and on
// the Exec stream, next to a NATS request/reply echo's rate and an empty gRPC call's, measured
// in the same run.
//
//   npx tsx bench/nats-heap.ts [--seconds S]
//
// Starts its own nats-server -js (test/support/nats.ts) so that nothing else on the shared
// server answers its services' subjects; needs nats-server on PATH.
import { connect as natsConnect } from '@nats-io/transport-node';
import { connectNatsBus } from '@mmsim/bus';
import { connect } from '@mmsim/sdk';
import { startPrivateNatsServer } from '../test/support/nats.js';
import { startCluster } from '../test/distributed/support/cluster.js';
import { fmt, heapTable, rate, seconds } from './grpc-heap.js';

/** A request/reply round trip through the server: one connection asks, another answers. */
async function natsEcho(url: string): Promise<{ raw: () => Promise<number>; bus: () => Promise<number>; close(): Promise<void> }> {
  const server = await natsConnect({ servers: url });
  const client = await natsConnect({ servers: url });
  server.subscribe('bench.echo', {
    callback: (_e, m) => {
      m.respond(m.data);
    },
  });
  await server.flush();
  // The services' bus: JSON payloads, the reply wrapped as { ok }, as mmsim.rpc.* requests are.
  const busServer = await connectNatsBus({ servers: url });
  const busClient = await connectNatsBus({ servers: url });
  await busServer.serve('bench.bus', (p) => p);
  // About the size of a heap Need (a touch request with its log position).
  const payload = { machine: { tenant: 'default', machine: 'bench' }, request: { type: 'Touch', pid: 1000, writes: [{ addr: 94_000_000_000_000, length: 80 }] }, requestId: '', parentSeq: 0, simTimeNs: 0n, position: { seq: 1234, streamSeq: 5678, serviceSeqs: { frames: 400, vma: 600, heap: 234 } } };
  const bytes = new TextEncoder().encode(JSON.stringify(payload, (_k, v) => (typeof v === 'bigint' ? { $bigint: String(v) } : v)));
  return {
    raw: async () => (await client.request('bench.echo', bytes, { timeout: 5000 }), 1),
    bus: async () => (await busClient.request('bench.bus', payload), 1),
    async close() {
      await busClient.close();
      await busServer.close();
      await client.close();
      await server.close();
    },
  };
}

async function main(): Promise<void> {
  const nats = await startPrivateNatsServer();
  const url = `nats://${nats.url}`;
  const cluster = await startCluster(url);
  const echo = await natsEcho(url);
  try {
    const client = cluster.client();
    const machine = { tenant: 'default', machine: 'bench' };
    await client.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 4n * 2n ** 30n, swapBytes: 0n, cpus: 2, seed: 1n, sysctls: [] });
    console.log(`node ${process.version}; four service processes over nats-server -js at ${nats.url}; ${seconds()} s per row, best of 3`);
    const raw = await rate(echo.raw);
    const bus = await rate(echo.bus);
    console.log('| NATS round trip | per s (wall) |');
    console.log('|---|---:|');
    console.log(`| request/reply echo (raw bytes) | ${fmt(raw.wall)} |`);
    console.log(`| request/reply through NatsBus (JSON, { ok } reply) | ${fmt(bus.wall)} |`);
    console.log('');
    await heapTable(client, machine, cluster.endpoints.heap, '(the client only)');
  } finally {
    await echo.close();
    await cluster.stop();
    await nats.dispose();
  }
}

await main();
