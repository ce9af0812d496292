// An embedded server for a test: all four services in this process on a free port, logging to
// a temporary directory that is removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllInOne, type AllInOne } from '@mmsim/service-all-in-one';
import { connect, type MmsimClient } from '@mmsim/sdk';

export interface EmbeddedServer {
  readonly server: AllInOne;
  readonly client: MmsimClient;
  /** The temporary directory: log/ (the machine logs) and export/. */
  readonly dir: string;
  readonly logDir: string;
  /** The .mmlog file of a machine of the default tenant. */
  logFile(machine: string, tenant?: string): string;
  /** Stops the server; the directory stays until dispose(). */
  stop(): Promise<void>;
  /** Stops the server (if running) and removes the directory. */
  dispose(): Promise<void>;
}

const quiet = { info: () => undefined, warn: (m: string) => console.warn(m), error: (m: string, e?: unknown) => console.error(m, e) };

export async function startEmbedded(opts: { tenant?: string } = {}): Promise<EmbeddedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-e2e-'));
  const logDir = join(dir, 'log');
  const server = await startAllInOne({ listen: '127.0.0.1:0', logDir, exportDir: join(dir, 'export'), logger: quiet });
  const client = connect({ endpoint: server.address, tenant: opts.tenant });
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    client.close();
    await server.stop();
  };
  return {
    server,
    client,
    dir,
    logDir,
    logFile: (machine, tenant = 'default') => join(logDir, tenant, `${machine}.mmlog`),
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
