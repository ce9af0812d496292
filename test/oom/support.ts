// What the OOM scenario specs share: an embedded server on a free port with its log in a
// temporary directory, the `mmsim` command run in this process against it, and a replay check.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo, main } from '@mmsim/cli';
import { replayFile, type ReplayReport } from '@mmsim/eventlog';
import type { MachineRef, TaskInfo } from '@mmsim/proto';
import { connect, type MmsimClient } from '@mmsim/sdk';
import { replayRegistry, startAllInOne, type AllInOne } from '@mmsim/service-all-in-one';

export interface Server {
  readonly server: AllInOne;
  readonly client: MmsimClient;
  readonly address: string;
  logFile(machine: string): string;
  /** `mmsim ARGV... --endpoint <this server>` in this process. */
  mmsim(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
  dispose(): Promise<void>;
}

const quiet = { info: () => undefined, warn: (m: string) => console.warn(m), error: (m: string, e?: unknown) => console.error(m, e) };

export async function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-oom-'));
  const logDir = join(dir, 'log');
  const server = await startAllInOne({ listen: '127.0.0.1:0', logDir, exportDir: join(dir, 'export'), logger: quiet });
  const client = connect({ endpoint: server.address });
  return {
    server,
    client,
    address: server.address,
    logFile: (machine) => join(logDir, 'default', `${machine}.mmlog`),
    mmsim: (...argv) => run(...argv, '--endpoint', server.address),
    async dispose() {
      client.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `mmsim ARGV...` in this process, no server options added. */
export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

export async function replayClean(path: string): Promise<ReplayReport> {
  return replayFile(path, { registry: replayRegistry() });
}

export async function ps(client: MmsimClient, machine: MachineRef, all = false): Promise<TaskInfo[]> {
  return (await client.vma.listTasks({ machine, all })).tasks;
}

export const ref = (machine: string): MachineRef => ({ tenant: 'default', machine });

/** C's integer division (truncates toward zero). */
export const cdiv = (a: number, b: number): number => Math.trunc(a / b);

/** linux-6.18 /proc/<pid>/oom_score from badness points (fs/proc/base.c proc_oom_score()). */
export const oomScore618 = (points: number, totalPages: number): number => cdiv((1000 + cdiv(points * 1000, totalPages)) * 2, 3);
