import { DEFAULT_LOG_DIR, startAllInOne, startStandalone, type TenantQuota } from '@mmsim/service-all-in-one';
import type { ServiceName } from '@mmsim/kernel';
import { checkEndpoint, parseNumber } from '@mmsim/sdk';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';

/** Default ports: the embedded server on 50051, the four services on 50052-50055 (as docker-compose.yml). */
export const SERVICE_PORTS: Readonly<Record<ServiceName | 'all', number>> = { all: 50051, frames: 50052, vma: 50053, heap: 50054, oom: 50055 };
const SERVICES = ['frames', 'vma', 'heap', 'oom'] as const;

export const serve: Command = {
  name: 'serve',
  summary: 'run mmsim: the embedded default (all four services, in-process bus, file log) or one service over NATS',
  description:
    'Without --service: the four services in this process, logging to files under --log-dir, gRPC on 127.0.0.1:50051.\n' +
    'With --service: that one service, talking to the others over NATS and appending to JetStream (stream MMSIM).',
  options: [
    { name: 'service', type: 'string', valueName: 'NAME', description: 'frames, vma, heap or oom (distributed mode)' },
    { name: 'nats', type: 'string', valueName: 'URL', description: 'NATS server(s) for the distributed mode (default nats://127.0.0.1:4222)' },
    { name: 'listen', type: 'string', valueName: 'HOST:PORT', description: 'gRPC address (default 127.0.0.1:50051, or 5005x per service; port 0: any free port, printed on stderr)' },
    { name: 'log-dir', type: 'string', valueName: 'DIR', description: `embedded mode: where machine logs live (default ${DEFAULT_LOG_DIR})` },
    { name: 'export-dir', type: 'string', valueName: 'DIR', description: 'where Export writes and Replay reads files on the server' },
    { name: 'fsync', type: 'boolean', description: 'embedded mode: fdatasync every append' },
    { name: 'max-machines', type: 'number', valueName: 'N', description: 'per tenant: at most N machines at once (embedded, or --service vma); more is RESOURCE_EXHAUSTED' },
    { name: 'max-ram', type: 'string', valueName: 'SIZE', description: "per tenant: at most SIZE (e.g. 64G) of simulated RAM over the tenant's machines" },
  ],
  examples: ['mmsim serve', 'mmsim serve --service vma --nats nats://127.0.0.1:4222 --listen 127.0.0.1:50053'],
  async run(args, io) {
    const o = args.options;
    const service = o.service as string | undefined;
    if (service !== undefined && !(SERVICES as readonly string[]).includes(service)) {
      throw new UsageError(`mmsim serve: --service must be one of ${SERVICES.join(', ')}, got "${service}"`);
    }
    if (service === undefined && o.nats !== undefined) throw new UsageError('mmsim serve: --nats is for one service (--service); the embedded default needs no NATS');
    const tenantQuota = tenantQuotaOf(o, service);
    const listen = checkListen((o.listen as string | undefined) ?? `127.0.0.1:${SERVICE_PORTS[(service as ServiceName | undefined) ?? 'all']}`);
    const logger = { info: (m: string) => io.err(`${m}\n`), warn: (m: string) => io.err(`warning: ${m}\n`), error: (m: string, e?: unknown) => io.err(`error: ${m}${e ? ` ${String(e)}` : ''}\n`) };
    const server = service
      ? await startStandalone({ service: service as ServiceName, nats: (o.nats as string | undefined) ?? 'nats://127.0.0.1:4222', listen, exportDir: o['export-dir'] as string | undefined, logger, tenantQuota })
      : await startAllInOne({ listen, logDir: o['log-dir'] as string | undefined, exportDir: o['export-dir'] as string | undefined, fsync: o.fsync === true, logger, tenantQuota });
    io.err(`mmsim: serving ${service ?? 'frames, vma, heap and oom (embedded)'} on ${server.address}${service ? '' : ` (logs in ${(server as { logDir: string }).logDir})`}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    io.err('mmsim: stopping\n');
    await server.stop();
    return 0;
  },
};

/** HOST:PORT to listen on; port 0 asks the kernel for a free one (the address bound is printed). */
export function checkListen(s: string): string {
  const m = /^(.*):0$/.exec(s);
  try {
    // checkEndpoint is for addresses to connect to (port 1..65535); a listener may also take 0.
    if (m) checkEndpoint(`${m[1]}:1`);
    else checkEndpoint(s);
    return s;
  } catch {
    throw new UsageError(`mmsim serve: --listen "${s}" is not HOST:PORT (PORT 0..65535; 0 picks a free one)`);
  }
}

/** --max-machines / --max-ram: the vma service enforces them, so they go where vma runs. */
function tenantQuotaOf(o: Readonly<Record<string, unknown>>, service: string | undefined): TenantQuota {
  const machines = o['max-machines'] as number | undefined;
  const ram = o['max-ram'] as string | undefined;
  if ((machines !== undefined || ram !== undefined) && service !== undefined && service !== 'vma') {
    throw new UsageError(`mmsim serve: --max-machines and --max-ram are enforced by the vma service; give them to --service vma, not ${service}`);
  }
  if (machines !== undefined && (!Number.isSafeInteger(machines) || machines < 1)) throw new UsageError(`mmsim serve: --max-machines takes a whole number >= 1, got ${machines}`);
  const ramBytes = ram === undefined ? undefined : parseNumber(ram);
  if (ram !== undefined && (ramBytes === undefined || !Number.isSafeInteger(ramBytes) || ramBytes < 2 ** 27)) {
    throw new UsageError(`mmsim serve: --max-ram takes a size of at least 128M (the smallest machine), got "${ram}"`);
  }
  return { ...(machines !== undefined ? { maxMachines: machines } : {}), ...(ramBytes !== undefined ? { maxRamBytes: ramBytes } : {}) };
}
