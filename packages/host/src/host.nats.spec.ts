import { connectNatsBus } from '@mmsim/bus';
import { connectJetStreamEventLog, type EventLog, type LogRecord, type MachineRef } from '@mmsim/eventlog';
import { describe } from 'vitest';
import { freshMachine, useNats } from '../../../test/support/nats.js';
import { upper, upperCodec } from '../../../test/support/toy-aggregates.js';
import { createAggregateHost } from './aggregate-host.js';
import { busAsk, serveHost } from './bus-rpc.js';
import { hostContract, makeLowerHost, quietLogger } from './host.contract.js';

const nats = await useNats();

/** A view of the shared stream that only lists this world's tenant (the stream holds everyone's machines). */
function onlyTenant(log: EventLog, tenant: string): EventLog {
  return Object.create(log, {
    machines: { value: async (): Promise<MachineRef[]> => (await log.machines()).filter((m) => m.tenant === tenant) },
    records: { value: (m: MachineRef, o?: object): AsyncIterable<LogRecord> => log.records(m, o) },
  });
}

describe.skipIf(nats.skip)(`host over NATS (${nats.reason})`, () => {
  hostContract('NatsBus + JetStreamEventLog', async () => {
    const { tenant } = freshMachine('h');
    // A private op, so that no other test's services on the shared server answer these requests.
    const op = `cmd${tenant}`;
    const reader = await connectJetStreamEventLog({ servers: nats.url });
    let n = 0;
    const lowerProcess = async (serve: boolean) => {
      const log = onlyTenant(await connectJetStreamEventLog({ servers: nats.url, name: 'lower' }), tenant);
      const bus = await connectNatsBus({ servers: nats.url, name: 'lower' });
      const host = makeLowerHost(log);
      await host.start();
      const sub = serve ? await serveHost(bus, host, { op }) : undefined;
      return {
        host,
        async stop() {
          await sub?.stop();
          await host.close();
          await bus.close();
          await log.close();
        },
      };
    };
    return {
      reader,
      machine: () => ({ tenant, machine: `m${++n}` }),
      async start() {
        const low = await lowerProcess(true);
        const log = onlyTenant(await connectJetStreamEventLog({ servers: nats.url, name: 'upper' }), tenant);
        const bus = await connectNatsBus({ servers: nats.url, name: 'upper' });
        const up = createAggregateHost({ aggregate: upper, codec: upperCodec, log, ask: busAsk(bus, { op: () => op }), logger: quietLogger });
        await up.start();
        return {
          lower: low.host,
          upper: up,
          async stop() {
            await up.close();
            await bus.close();
            await log.close();
            await low.stop();
          },
        };
      },
      secondLower: () => lowerProcess(false),
      close: () => reader.close(),
    };
  });
});
