import { useNats } from '../../../../test/support/nats.js';
import { describe } from 'vitest';
import { busContract } from '../bus.contract.js';
import { connectNatsBus } from './nats-bus.js';

const nats = await useNats();

describe.skipIf(nats.skip)(`NatsBus (${nats.reason})`, () => {
  busContract('NatsBus', async () => {
    const server = await connectNatsBus({ servers: nats.url, name: 'bus-test-server' });
    const client = await connectNatsBus({ servers: nats.url, name: 'bus-test-client' });
    return {
      server,
      client,
      close: async () => {
        await client.close();
        await server.close();
      },
    };
  });
});
