// NATS for tests (files named *.nats.spec.ts).
//
//   const nats = await useNats();              // at the top of the spec file
//   describe.skipIf(nats.skip)('...', () => { ... connect({ servers: nats.url }) ... });
//
// useNats() uses the server at 127.0.0.1:4222 (MMSIM_NATS_URL overrides) when one answers;
// otherwise starts `nats-server -js` from PATH on a free port with a temporary store (stopped
// after the file's tests); otherwise the suite is skipped with a message saying why, except
// under CI=true, where that is a failure. Tests share the MMSIM stream: give each test a fresh
// tenant/machine (freshMachine()) and never delete the stream.
//
// startPrivateNatsServer() starts a server of the test's own, for tests that must stop, kill
// or restart it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const DEFAULT_NATS_URL = '127.0.0.1:4222';

function hostPort(url: string): { host: string; port: number } {
  const m = /^(?:nats:\/\/)?([^:/]+):(\d+)$/.exec(url.trim());
  if (!m) throw new Error(`not a host:port NATS url: ${url}`);
  return { host: m[1], port: Number(m[2]) };
}

/** True when a NATS server answers at `url` (it sends an INFO line on connect). */
export function natsAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = hostPort(url);
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('data', (d) => done(d.toString('latin1').startsWith('INFO ')));
    sock.once('error', () => done(false));
  });
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const hasNatsServer = (): boolean => spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface PrivateNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGTERM and wait; the store stays until dispose(). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store (after stop() or kill()). */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
}

/** Starts `nats-server -js` on a free port with a temporary store directory. */
export async function startPrivateNatsServer(opts: { jetstream?: boolean; port?: number } = {}): Promise<PrivateNatsServer> {
  if (!hasNatsServer()) throw new Error('nats-server is not on PATH');
  const port = opts.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'mmsim-nats-'));
  const url = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
    if (opts.jetstream ?? true) args.push('-js');
    const c = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child = c;
    for (let i = 0; i < 100; i++) {
      if (c.exitCode !== null) throw new Error(`nats-server exited (${c.exitCode}):\n${stderr}`);
      if (await natsAnswers(url, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill('SIGKILL');
    throw new Error(`nats-server did not answer on ${url}:\n${stderr}`);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await exited;
  };

  await start();
  return {
    url,
    port,
    storeDir,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await start();
    },
    dispose: async () => {
      await halt('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export interface NatsForTests {
  /** Where to connect; undefined when skipping. */
  readonly url: string | undefined;
  readonly skip: boolean;
  /** Why the suite is skipped, or which server it uses. */
  readonly reason: string;
}

export interface NatsResolveEnv {
  readonly url: string;
  readonly ci: boolean;
  answers(url: string): Promise<boolean>;
  hasNatsServer(): boolean;
  startServer(): Promise<{ url: string; dispose(): Promise<void> }>;
  /** Registers cleanup for after the file's tests. */
  afterAll(f: () => Promise<void>): void;
  warn(message: string): void;
}

/** The decision useNats() makes, with the world passed in (so it can be tested). */
export async function resolveNats(env: NatsResolveEnv): Promise<NatsForTests> {
  if (await env.answers(env.url)) return { url: env.url, skip: false, reason: `using NATS at ${env.url}` };
  if (env.hasNatsServer()) {
    const srv = await env.startServer();
    env.afterAll(() => srv.dispose());
    return { url: srv.url, skip: false, reason: `started nats-server -js at ${srv.url}` };
  }
  const reason = `no NATS at ${env.url} and no nats-server on PATH: NATS tests skipped`;
  if (env.ci) throw new Error(`${reason} (CI=true: this is a failure)`);
  env.warn(reason);
  return { url: undefined, skip: true, reason };
}

/** True when a NATS server answers at 127.0.0.1:4222 (or MMSIM_NATS_URL). */
export const natsAvailable = (): Promise<boolean> => natsAnswers(process.env.MMSIM_NATS_URL ?? DEFAULT_NATS_URL);

let shared: Promise<NatsForTests> | undefined;

/**
 * NATS for this test file: the running server, a private one, or a skip (a failure under
 * CI=true). Call at the top level of a *.nats.spec.ts file.
 */
export function useNats(): Promise<NatsForTests> {
  shared ??= resolveNats({
    url: process.env.MMSIM_NATS_URL ?? DEFAULT_NATS_URL,
    ci: process.env.CI === 'true',
    answers: (url) => natsAnswers(url),
    hasNatsServer,
    startServer: () => startPrivateNatsServer(),
    afterAll,
    warn: (m) => console.warn(m),
  });
  return shared;
}

let counter = 0;

/**
 * A tenant and machine nobody else has used: tests share the MMSIM stream and must not see
 * each other's records. Test-only randomness is fine here (it never reaches a log's content
 * that a test compares across runs).
 */
export function freshMachine(prefix = 't'): { tenant: string; machine: string } {
  counter++;
  const stamp = `${process.pid.toString(36)}${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  return { tenant: `${prefix}${stamp}`, machine: `m${counter}` };
}
