import type { Command } from './command.js';
import type { ParsedArgs } from './args.js';
import type { Io } from './io.js';
import { CLIENT_OPTIONS, clientOf, describeGrpcError } from './client-options.js';
import type { MmsimClient } from '@mmsim/sdk';

/** A command that talks to a server: shared options, one client, gRPC errors as one line. */
export function clientCommand(c: Omit<Command, 'run'> & { run(client: MmsimClient, args: ParsedArgs, io: Io): Promise<number> }): Command {
  return {
    ...c,
    options: [...(c.options ?? []), ...CLIENT_OPTIONS],
    async run(args, io) {
      const client = clientOf(args);
      try {
        return await c.run(client, args, io);
      } catch (e) {
        const line = describeGrpcError(e, client.endpoints.vma === client.endpoints.heap ? client.endpoints.vma : 'the servers');
        if (line === undefined) throw e;
        io.err(`mmsim ${c.name}: ${line}\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}
