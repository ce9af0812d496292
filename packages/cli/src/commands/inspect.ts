// Reading a machine: ps, meminfo, any /proc file, sysctls, the machine list.
import { clientCommand } from '../client-command.js';
import { MACHINE_OPTION, machineOf } from '../client-options.js';
import type { Command } from '../command.js';
import { formatTable } from '../table.js';
import { UsageError } from '../args.js';
import type { TaskInfo } from '@mmsim/proto';

export const ps = clientCommand({
  name: 'ps',
  summary: 'the task list of a machine, with memory (kB) as /proc/<pid>/status shows it',
  options: [MACHINE_OPTION, { name: 'all', short: 'a', type: 'boolean', description: 'include kernel threads and exited tasks' }, { name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const r = await client.vma.listTasks({ machine, all: args.options.all === true });
    if (args.options.json) {
      io.out(JSON.stringify(r.tasks, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2) + '\n');
      return 0;
    }
    io.out(psTable(r.tasks));
    return 0;
  },
});

export function psTable(tasks: readonly TaskInfo[]): string {
  return formatTable(
    ['PID', 'PPID', 'UID', 'NAME', 'STATE', 'VSZ', 'RSS', 'ANON', 'FILE', 'SHMEM', 'SWAP', 'PTE', 'ADJ', 'CGROUP', 'EXIT'],
    tasks.map((t) => [t.pid, t.ppid, t.uid, t.name, t.state, t.vmSizeKb, t.vmRssKb, t.rssAnonKb, t.rssFileKb, t.rssShmemKb, t.vmSwapKb, t.vmPteKb, t.oomScoreAdj, t.cgroup, t.exit].map(String)),
    [true, true, true, false, false, true, true, true, true, true, true, true, true, false, false],
  );
}

export const meminfo = clientCommand({
  name: 'meminfo',
  summary: "a machine's /proc/meminfo, in its kernel profile's exact layout",
  options: [MACHINE_OPTION],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    io.out((await client.readProc(machine, '/proc/meminfo')).text);
    return 0;
  },
});

export const proc = clientCommand({
  name: 'proc',
  summary: 'print any /proc file of a machine',
  description: 'Modelled: /proc/meminfo, vmstat, buddyinfo, zoneinfo; /proc/<pid>/status, maps, smaps, smaps_rollup, stat, oom_score, oom_score_adj, oom_adj; /proc/sys/vm/* (overcommit_memory, overcommit_ratio, overcommit_kbytes, admin_reserve_kbytes, user_reserve_kbytes, min_free_kbytes, watermark_scale_factor, swappiness, panic_on_oom, oom_kill_allocating_task).',
  options: [MACHINE_OPTION],
  positionals: [{ name: 'path', required: true, description: 'e.g. /proc/meminfo, /proc/1000/status, /proc/sys/vm/overcommit_memory' }],
  examples: ['mmsim proc /proc/buddyinfo', 'mmsim proc /proc/1000/maps --machine demo'],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    io.out((await client.readProc(machine, args.positionals.path as string)).text);
    return 0;
  },
});

export const sysctl = clientCommand({
  name: 'sysctl',
  summary: 'read or write a /proc/sys/vm setting of a machine',
  options: [MACHINE_OPTION],
  positionals: [
    { name: 'name', required: true, description: 'vm.overcommit_memory, vm.overcommit_ratio, vm.min_free_kbytes, vm.swappiness, vm.panic_on_oom...' },
    { name: 'value', description: 'the new value; absent: read' },
  ],
  examples: ['mmsim sysctl vm.overcommit_memory 2', 'mmsim sysctl vm.swappiness'],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const r = await client.machines.sysctl({ machine, name: args.positionals.name as string, value: (args.positionals.value as string | undefined) ?? '' });
    io.out(`${r.name} = ${r.value}\n`);
    return 0;
  },
});

const machineList = clientCommand({
  name: 'list',
  summary: "the tenant's machines",
  async run(client, _args, io) {
    const r = await client.machines.listMachines({});
    io.out(
      formatTable(
        ['MACHINE', 'PROFILE', 'RAM', 'SWAP', 'CPUS', 'TASKS', 'TIME', 'LAST_SEQ'],
        r.machines.map((m) => [m.config?.ref?.machine ?? '', m.config?.profile ?? '', mib(m.config?.ramBytes), mib(m.config?.swapBytes), String(m.config?.cpus ?? 0), String(m.tasks), `${(Number(m.simTimeNs) / 1e9).toFixed(3)}s`, String(m.lastSeq)]),
        [false, false, true, true, true, true, true, true],
      ),
    );
    return 0;
  },
});

const machineCreate = clientCommand({
  name: 'create',
  summary: 'boot a machine',
  options: [
    { name: 'ram', type: 'number', valueName: 'SIZE', description: 'RAM, e.g. 512M, 4G', default: 1024 * 2 ** 20 },
    { name: 'swap', type: 'number', valueName: 'SIZE', description: 'swap device size (0: none)', default: 0 },
    { name: 'profile', type: 'string', description: 'linux-6.18 or linux-2.6.18', default: 'linux-6.18' },
    { name: 'cpus', type: 'number', description: 'online CPUs', default: 2 },
    { name: 'seed', type: 'number', description: 'seeds ASLR and workload generators', default: 1 },
    { name: 'sysctl', type: 'list', valueName: 'NAME=VALUE', description: 'a sysctl at boot (repeatable), e.g. vm.overcommit_memory=2' },
  ],
  positionals: [{ name: 'name', required: true, description: 'the machine name: [A-Za-z0-9_-]' }],
  examples: ['mmsim machine create web1 --ram 2G --swap 1G --sysctl vm.swappiness=10'],
  async run(client, args, io) {
    const o = args.options;
    const sysctls = ((o.sysctl as string[] | undefined) ?? []).map((s) => {
      const eq = s.indexOf('=');
      if (eq <= 0) throw new UsageError(`mmsim machine create: --sysctl takes NAME=VALUE, got "${s}"`);
      return { name: s.slice(0, eq), value: s.slice(eq + 1) };
    });
    const r = await client.machines.createMachine({
      machine: { tenant: client.tenant, machine: args.positionals.name as string },
      profile: o.profile as string,
      ramBytes: BigInt(o.ram as number),
      swapBytes: BigInt(o.swap as number),
      cpus: o.cpus as number,
      seed: BigInt(o.seed as number),
      sysctls,
    });
    io.out(`created ${r.machine?.config?.ref?.machine}: ${mib(r.machine?.config?.ramBytes)} RAM, ${mib(r.machine?.config?.swapBytes)} swap, ${r.machine?.config?.profile}, ${r.machine?.tasks} tasks\n`);
    return 0;
  },
});

export const machine: Command = {
  name: 'machine',
  summary: 'create and list machines',
  subcommands: [machineCreate, machineList],
};

const mib = (b: bigint | undefined): string => `${Math.round(Number(b ?? 0n) / 2 ** 20)}M`;
