// Commands that run a workload (demo, run) work out of the box: with no --endpoint/--endpoints
// and nothing listening on the default address, they start the embedded server in their own
// process for the length of the command (its log stays under .mmsim/log for replay).
import { connect, isUnreachable, type MmsimClient } from '@mmsim/sdk';
import { startAllInOne, type AllInOne } from '@mmsim/service-all-in-one';
import type { OptionSpec, ParsedArgs } from './args.js';
import { clientOf, CLIENT_OPTIONS, describeGrpcError } from './client-options.js';
import type { Io } from './io.js';

export const EMBEDDED_OPTIONS: readonly OptionSpec[] = [
  { name: 'log-dir', type: 'string', valueName: 'DIR', description: 'embedded server: where logs go (default .mmsim/log)' },
  ...CLIENT_OPTIONS,
];

/** Runs `body` against the server the options name, or an embedded one when none is running. */
export async function withServerOrEmbedded(command: string, args: ParsedArgs, io: Io, body: (client: MmsimClient, server: AllInOne | undefined) => Promise<number>): Promise<number> {
  const explicit = args.options.endpoint !== undefined || args.options.endpoints !== undefined;
  let server: AllInOne | undefined;
  let client = clientOf(args);
  try {
    try {
      await client.machines.listMachines({});
    } catch (e) {
      if (!isUnreachable(e) || explicit) throw e;
      client.close();
      io.err(`no mmsim server on ${client.endpoints.vma}: starting the embedded one in this process\n`);
      server = await startAllInOne({ listen: '127.0.0.1:0', logDir: args.options['log-dir'] as string | undefined, logger: { info: () => undefined, warn: (m) => io.err(`warning: ${m}\n`), error: (m) => io.err(`error: ${m}\n`) } });
      client = connect({ endpoint: server.address, tenant: args.options.tenant as string | undefined });
    }
    return await body(client, server);
  } catch (e) {
    const line = describeGrpcError(e, client.endpoints.vma);
    if (line === undefined) throw e;
    io.err(`mmsim ${command}: ${line}\n`);
    return 1;
  } finally {
    client.close();
    await server?.stop();
  }
}
