// The distributed mode for a test: the four services as four OS processes
// (`node packages/cli/bin/mmsim.js serve --service X --nats URL --listen 127.0.0.1:0`), each
// found by the "mmsim: serving X on ADDR" line it prints on stderr, over one NATS server.
//
// natsForCluster() picks that server. The services serve fixed subjects
// (mmsim.rpc.<service>.command, queue group <service>) and rebuild every machine of the MMSIM
// stream when they start, so a cluster on the shared server would answer (and be answered by)
// any other suite's services running there at the same time, and would start by reading every
// machine anyone ever logged. A private `nats-server -js` (test/support/nats.ts) avoids both;
// without nats-server on PATH the server useNats() found is used.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { connect, type Endpoints, type MmsimClient } from '@mmsim/sdk';
import { startPrivateNatsServer, useNats } from '../../support/nats.js';

export const SERVICES = ['frames', 'vma', 'heap', 'oom'] as const;
export type Service = (typeof SERVICES)[number];

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const MMSIM_BIN = `${REPO}packages/cli/bin/mmsim.js`;

export interface ClusterNats {
  readonly skip: boolean;
  readonly reason: string;
  /** nats://host:port; undefined when skipping. */
  readonly url: string | undefined;
  /** The private server, when one was started (for tests that stop it). */
  readonly private: boolean;
}

/** NATS for a cluster: a private server when nats-server is on PATH, else what useNats() found. */
export async function natsForCluster(): Promise<ClusterNats> {
  const nats = await useNats();
  if (nats.skip) return { skip: true, reason: nats.reason, url: undefined, private: false };
  try {
    const srv = await startPrivateNatsServer();
    afterAll(() => srv.dispose());
    return { skip: false, reason: `private nats-server at ${srv.url}`, url: `nats://${srv.url}`, private: true };
  } catch (e) {
    console.warn(`cannot start a private nats-server (${(e as Error).message}); using ${nats.url}: other suites' services there may answer`);
    return { skip: false, reason: nats.reason, url: `nats://${nats.url}`, private: false };
  }
}

export interface ServiceProcess {
  readonly service: Service;
  readonly address: string;
  readonly child: ChildProcess;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
}

export interface Cluster {
  readonly natsUrl: string;
  readonly endpoints: Endpoints;
  readonly processes: Readonly<Record<Service, ServiceProcess>>;
  /** A client of the four endpoints (closed by stop()). */
  client(tenant?: string): MmsimClient;
  /** Sends a signal and waits for the process to end. */
  kill(service: Service, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the service again on the same address. */
  restart(service: Service): Promise<ServiceProcess>;
  /** SIGTERM to every process, waiting for each. */
  stop(): Promise<void>;
}

const SERVING = /mmsim: serving (\w+) on (\S+)/;

/** Starts one service process and waits for its "serving" line. */
export function startService(service: Service, natsUrl: string, listen = '127.0.0.1:0', timeoutMs = 50_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MMSIM_BIN, 'serve', '--service', service, '--nats', natsUrl, '--listen', listen], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} did not say it serves within ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = SERVING.exec(err);
      if (m && m[1] === service) {
        clearTimeout(timer);
        resolve({ service, address: m[2], child, stderr: () => err });
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${service} exited (${code ?? sig}) before serving:\n${err}`));
    });
  });
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));

export async function startCluster(natsUrl: string): Promise<Cluster> {
  const started = await Promise.allSettled(SERVICES.map((s) => startService(s, natsUrl)));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of started) if (r.status === 'fulfilled') r.value.child.kill('SIGKILL');
    throw (failed as PromiseRejectedResult).reason;
  }
  const processes = Object.fromEntries(started.map((r) => [(r as PromiseFulfilledResult<ServiceProcess>).value.service, (r as PromiseFulfilledResult<ServiceProcess>).value])) as Record<Service, ServiceProcess>;
  const endpoints: Endpoints = { frames: processes.frames.address, vma: processes.vma.address, heap: processes.heap.address, oom: processes.oom.address };
  const clients: MmsimClient[] = [];
  return {
    natsUrl,
    endpoints,
    processes,
    client(tenant) {
      const c = connect({ endpoints, tenant });
      clients.push(c);
      return c;
    },
    async kill(service, signal = 'SIGKILL') {
      const c = processes[service].child;
      const done = exited(c);
      c.kill(signal);
      await done;
    },
    async restart(service) {
      const p = await startService(service, natsUrl, processes[service].address);
      processes[service] = p;
      return p;
    },
    async stop() {
      for (const c of clients) c.close();
      await Promise.all(
        SERVICES.map(async (s) => {
          const c = processes[s].child;
          const done = exited(c);
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
          await done;
          clearTimeout(t);
        }),
      );
    },
  };
}
