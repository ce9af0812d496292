// The main demo: a machine runs out of memory, the OOM killer picks a victim, and says why.
import { runScenario, type MmsimClient, type Scenario } from '@mmsim/sdk';
import type { AllInOne } from '@mmsim/service-all-in-one';
import type { MachineRef } from '@mmsim/proto';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { EMBEDDED_OPTIONS, withServerOrEmbedded } from '../embedded-fallback.js';
import type { Io } from '../io.js';
import { meminfoFields } from '../meminfo-text.js';
import { psTable } from './inspect.js';

export function demoScenario(name: string, ramMiB: number, profile: string, seed: number): Scenario {
  return {
    machine: { name, ramBytes: `${ramMiB}M`, swapBytes: 0, profile: profile as 'linux-6.18', seed, cpus: 2 },
    steps: [
      { spawn: { as: 'sshd', name: 'sshd', uid: 0, oomScoreAdj: -1000 } },
      { malloc: { pid: '$sshd', size: '2M', write: true } },
      { spawn: { as: 'postgres', name: 'postgres', uid: 999 } },
      { repeat: { times: Math.floor(ramMiB * 0.4), steps: [{ malloc: { pid: '$postgres', size: '1M', write: true } }] } },
      { spawn: { as: 'nginx', name: 'nginx', uid: 33 } },
      { repeat: { times: 8, steps: [{ malloc: { pid: '$nginx', size: '1M', write: true } }] } },
      { spawn: { as: 'worker', name: 'leaky-worker', uid: 1000 } },
      { repeat: { times: ramMiB * 4, until: 'oom-kill', steps: [{ malloc: { pid: '$worker', size: '1M', write: true } }] } },
    ],
  };
}

const MEMINFO_KEYS = ['MemTotal', 'MemFree', 'MemAvailable', 'Cached', 'AnonPages', 'PageTables', 'CommitLimit', 'Committed_AS'];

async function freeName(client: MmsimClient, base: string): Promise<string> {
  const names = new Set((await client.machines.listMachines({})).machines.map((m) => m.config?.ref?.machine));
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base}-${i}`)) return `${base}-${i}`;
}

export const demo: Command = {
  name: 'demo',
  summary: 'boot a machine, run it out of memory with malloc, and show the OOM kill and why',
  description:
    'Uses the server at --endpoint/--endpoints; with none given and none running on 127.0.0.1:50051, starts the embedded\n' +
    'server in this process (logs under .mmsim/log). Processes: sshd (oom_score_adj -1000), a postgres that allocates\n' +
    '40% of RAM and behaves, nginx, and a leaky worker that mallocs 1 MiB at a time until the OOM killer acts.',
  options: [
    { name: 'machine', short: 'm', type: 'string', description: 'machine name (default demo, demo-2... whichever is free)' },
    { name: 'ram', type: 'number', valueName: 'MiB', description: 'RAM in MiB', default: 256 },
    { name: 'profile', type: 'string', description: 'kernel profile: linux-6.18 or linux-2.6.18', default: 'linux-6.18' },
    { name: 'seed', type: 'number', description: 'machine seed', default: 42 },
    ...EMBEDDED_OPTIONS,
  ],
  run: (args, io) => withServerOrEmbedded('demo', args, io, (client, server) => runDemo(client, args.options, io, server)),
};

async function runDemo(client: MmsimClient, o: Readonly<Record<string, unknown>>, io: Io, server: AllInOne | undefined): Promise<number> {
  const name = (o.machine as string | undefined) ?? (await freeName(client, 'demo'));
  const ram = o.ram as number;
  if (!Number.isInteger(ram) || ram < 128 || ram > 65536) throw new UsageError(`mmsim demo: --ram takes MiB between 128 (the smallest machine frames lays out) and 65536, got ${ram}`);
  const machine: MachineRef = { tenant: client.tenant, machine: name };
  const scenario = demoScenario(name, ram, o.profile as string, o.seed as number);
  io.out(`== machine ${name}: ${ram} MiB RAM, no swap, ${o.profile}, overcommit_memory=0 ==\n\n`);
  let before: Record<string, number> | undefined;
  let steps = 0;
  const result = await runScenario(client, scenario, {
    onStep: () => undefined,
    onCreated: async () => {
      before = meminfoFields((await client.readProc(machine, '/proc/meminfo')).text, MEMINFO_KEYS);
    },
    onProgress: io.isTty ? () => io.err(`\r${++steps} calls`) : undefined,
  });
  if (io.isTty) io.err('\n');
  const after = meminfoFields((await client.readProc(machine, '/proc/meminfo')).text, MEMINFO_KEYS);
  io.out('/proc/meminfo          before        after\n');
  for (const k of MEMINFO_KEYS) io.out(`${(k + ':').padEnd(16)} ${String(before?.[k] ?? '?').padStart(9)} kB ${String(after[k] ?? '?').padStart(9)} kB\n`);
  io.out('\n');
  const kills = await client.oom.listKills({ machine });
  if (kills.kills.length === 0) {
    io.out(`no OOM kill happened (${result.nullReturns} mallocs returned NULL)\n`);
    return 1;
  }
  const k = kills.kills[0];
  io.out(`== the kernel log ==\n${k.logLine}\n\n`);
  const ex = await client.oom.explain({ machine, seq: k.seq });
  io.out(`== why (mmsim oom explain --machine ${name} ${k.seq}) ==\n${withoutKernelThreads(ex.text)}\n`);
  io.out(`== ps after the kill ==\n${psTable((await client.vma.listTasks({ machine, all: false })).tasks)}\n`);
  const logPath = server ? `${server.logDir}/${client.tenant}/${name}.mmlog` : undefined;
  io.out('next:\n');
  if (logPath) io.out(`  mmsim replay ${logPath}         # rebuild every state from the log\n`);
  io.out(`  mmsim oom whatif ${k.seq} --machine ${name} --adj ${k.victim}=-500   # who would have died instead?\n`);
  return 0;
}

/** The explain table without the kernel-thread rows (they are never candidates), with a count instead. */
export function withoutKernelThreads(text: string): string {
  const lines = text.split('\n');
  const kept = lines.filter((l) => !/skipped: kernel thread/.test(l));
  const n = lines.length - kept.length;
  return kept.join('\n') + (n ? `(${n} kernel threads skipped: they have no mm)\n` : '');
}
