// `mmsim oom`: the OOM killer of a machine. kills, explain and scores ask the OomService;
// whatif re-decides a recorded OOM under a change (the WhatIf RPC), and with --continue runs the
// rest of the recorded workload again on this side, from an export of the machine's log (or a
// .mmlog file given with --log, no server needed). `score --snapshot` scores a real machine's
// /proc snapshot without a server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { readLogFile } from '@mmsim/eventlog';
import { isRejection, isKernelProfile, type KernelProfile } from '@mmsim/kernel';
import { formatPoints, parseSnapshot, scoresTable, scoreSnapshot, snapshotToOomTasks, type OomExplanation, type ProcSnapshot } from '@mmsim/kernel/oom';
import type { ExportResponse, MachineRef } from '@mmsim/proto';
import type { MmsimClient } from '@mmsim/sdk';
import { answerWhatIf, decisionsOfLog, decodeLog, findDecision, formatExplanation, formatWhatIf, parseChanges, withoutKernelThreads, type ParsedChanges } from '@mmsim/service-oom';
import { UsageError, type OptionSpec, type ParsedArgs } from '../args.js';
import { clientCommand } from '../client-command.js';
import { MACHINE_OPTION, machineOf } from '../client-options.js';
import type { Command } from '../command.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';

const JSON_OPTION: OptionSpec = { name: 'json', type: 'boolean', description: 'print JSON' };
const KILL: { name: string; description: string } = { name: 'kill', description: 'the decision, by the seq `mmsim oom kills` shows (default: the last one)' };

/** The KILL argument: a seq; 0 means the last decision. */
function killSeq(args: ParsedArgs, command: string): number {
  const k = args.positionals.kill as string | undefined;
  if (k === undefined || k === 'last') return 0;
  if (!/^\d+$/.test(k) || Number(k) < 1) throw new UsageError(`mmsim oom ${command}: KILL is the seq of a decision (see \`mmsim oom kills\`), got "${k}"`);
  return Number(k);
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2) + '\n';
const seconds = (ns: bigint | number): string => `${(Number(ns) / 1e9).toFixed(3)}s`;

const kills = clientCommand({
  name: 'kills',
  summary: "every OOM decision of a machine, oldest first: the kernel's and the userspace killers'",
  options: [MACHINE_OPTION, JSON_OPTION],
  examples: ['mmsim oom kills --machine demo', 'mmsim oom kills --json'],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const r = await client.oom.listKills({ machine });
    if (args.options.json) {
      io.out(json(r.kills));
      return 0;
    }
    if (r.kills.length === 0) {
      io.out(`no OOM decision on ${machine.machine} yet\n`);
      return 0;
    }
    io.out(
      formatTable(
        ['SEQ', 'TIME', 'VERDICT', 'BY', 'CONSTRAINT', 'VICTIM', 'KILLED'],
        r.kills.map((k) => [String(k.seq), seconds(k.simTimeNs), k.verdict, k.policy, k.constraint, k.victim ? `${k.victim} (${k.victimName || '?'})` : '-', k.killed.join(',') || '-']),
        [true, true],
      ),
    );
    io.out(`\nmmsim oom explain SEQ --machine ${machine.machine}   # why\n`);
    return 0;
  },
});

const explain = clientCommand({
  name: 'explain',
  summary: 'why the OOM killer chose its victim: every candidate, the inputs of the badness formula, its score, skips, ties',
  description:
    'Prints the candidate table of one OOM decision as the log recorded it: each task the scan looked at, in scan order,\n' +
    "with the formula's inputs (linux-6.18: RSS anon/file/shmem, swap, page tables, oom_score_adj scaled by totalpages;\n" +
    'linux-2.6.18: total_vm, children, CPU and run time, nice, root, oom_adj), its points and oom_score, and its verdict;\n' +
    'then why the winner won (the arithmetic, the runner-up, the tie rule) and what else died. Kernel threads are counted\n' +
    'and not listed unless --all.',
  options: [MACHINE_OPTION, { name: 'all', short: 'a', type: 'boolean', description: 'list kernel threads (and tasks without an mm) too' }, JSON_OPTION],
  positionals: [KILL],
  examples: ['mmsim oom explain --machine demo', 'mmsim oom explain 1114 --all', 'mmsim oom explain 1114 --json | jq .rows'],
  async run(client, args, io) {
    const seq = killSeq(args, 'explain');
    const machine = await machineOf(client, args);
    const r = await client.oom.explain({ machine, seq: BigInt(seq) });
    const x = JSON.parse(r.json) as OomExplanation;
    const all = args.options.all === true;
    if (args.options.json) {
      const { explanation, hidden } = all ? { explanation: x, hidden: 0 } : withoutKernelThreads(x);
      io.out(json({ seq: r.kill?.seq ?? seq, ...explanation, hiddenKernelThreads: hidden }));
      return 0;
    }
    io.out(`OOM decision at seq ${r.kill?.seq ?? seq} on ${machine.machine} (t=${seconds(r.kill?.simTimeNs ?? 0n)})\n`);
    io.out(formatExplanation(x, all));
    return 0;
  },
});

const scores = clientCommand({
  name: 'scores',
  summary: 'oom_score of every live process, as /proc/<pid>/oom_score shows it, with its badness points',
  options: [MACHINE_OPTION, JSON_OPTION],
  examples: ['mmsim oom scores --machine demo'],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const r = await client.oom.scores({ machine });
    io.out(args.options.json ? json(r.rows) : r.text);
    return 0;
  },
});

const policy = clientCommand({
  name: 'policy',
  summary: 'turn the userspace OOM killers on or off and set their options (OomService.SetPolicy)',
  description:
    'Settings: earlyoom=on|off, systemd-oomd=on|off, and their options, e.g. earlyoom.mem_term_percent=10,\n' +
    'earlyoom.prefer=REGEX, systemd-oomd.swap_monitored=/tenants. They act as simulated time passes (AdvanceTime).\n' +
    'vm.panic_on_oom and vm.oom_kill_allocating_task are sysctls: set them with `mmsim sysctl`.',
  options: [MACHINE_OPTION],
  positionals: [{ name: 'settings', required: true, variadic: true, description: 'NAME=VALUE settings, applied in order' }],
  examples: ['mmsim oom policy earlyoom=on --machine web1', 'mmsim oom policy earlyoom.mem_term_percent=15 earlyoom.prefer=^worker'],
  async run(client, args, io) {
    const machine = await machineOf(client, args);
    const r = await client.oom.setPolicy({ machine, settings: args.positionals.settings as string[] });
    io.out(`applied on ${machine.machine}: ${r.settings.join(', ')}\n`);
    return 0;
  },
});

const WHATIF_OPTIONS: readonly OptionSpec[] = [
  { name: 'policy', type: 'string', valueName: 'PROFILE', description: "decide with another kernel's OOM killer: linux-2.6.18 or linux-6.18" },
  { name: 'adj', type: 'list', valueName: 'PID=VALUE', description: 'oom_score_adj of a process (repeatable)' },
  { name: 'sysctl', type: 'list', valueName: 'vm.NAME=VALUE', description: 'a /proc/sys/vm setting, e.g. vm.panic_on_oom=1, vm.overcommit_memory=2 (repeatable)' },
  { name: 'cgroup', type: 'list', valueName: 'PATH:FILE=VALUE', description: 'a cgroup file: memory.max, memory.swap.max, memory.high (bytes, K/M/G, max), memory.oom.group (repeatable)' },
  { name: 'continue', type: 'boolean', description: 'run the rest of the recorded workload under the change and report what differs' },
  { name: 'from-start', type: 'boolean', description: 'with --continue: make the change right after the boot and run the whole recorded workload' },
  { name: 'log', type: 'string', valueName: 'FILE', description: 'read the machine from this .mmlog file instead of asking a server' },
  { name: 'all', short: 'a', type: 'boolean', description: 'list kernel threads in the candidate table' },
];

function changesOf(args: ParsedArgs): ParsedChanges {
  const o = args.options;
  try {
    return parseChanges({ policy: o.policy as string | undefined, adj: o.adj as string[] | undefined, sysctl: o.sysctl as string[] | undefined, cgroup: o.cgroup as string[] | undefined });
  } catch (e) {
    if (isRejection(e)) throw new UsageError(`mmsim oom whatif: ${e.message}`);
    throw e;
  }
}

/** The machine's log as the server stores it, through LogService.Export, into a temporary file. */
async function exportedLog(client: MmsimClient, machine: MachineRef): Promise<ReturnType<typeof decodeLog>> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-whatif-'));
  try {
    const md = new Metadata();
    md.set('mmsim-tenant', client.tenant);
    const call = client.raw.log.export({ machine, path: '', toSeq: 0n }, md);
    const chunks: Uint8Array[] = [];
    for await (const c of call as AsyncIterable<ExportResponse>) chunks.push(c.chunk);
    const path = join(dir, 'machine.mmlog');
    writeFileSync(path, Buffer.concat(chunks));
    return await decodeLog(readLogFile(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function localWhatIf(log: Awaited<ReturnType<typeof decodeLog>>, seq: number, changes: ParsedChanges, args: ParsedArgs, io: Io): Promise<number> {
  const name = log.machine.machine || '(log)';
  let d;
  try {
    d = findDecision(decisionsOfLog(log), seq, name);
  } catch (e) {
    if (!isRejection(e)) throw e;
    io.err(`mmsim oom whatif: ${e.message}\n`);
    return 1;
  }
  // The re-runs are synchronous: on a terminal, a line every 1% of the steps says how far they are.
  const onStep = io.isTty
    ? (run: string, done: number, total: number) => {
        if (done === total || done % Math.max(1, Math.floor(total / 100)) === 0) io.err(`\rre-running the workload ${run}: step ${done} of ${total}${done === total && run === 'changed' ? '\n' : ''}`);
      }
    : undefined;
  const a = answerWhatIf(name, d, changes, args.options.continue === true ? log : null, { from: args.options['from-start'] === true ? 'boot' : 'kill', onStep });
  io.out(args.options.json ? json(a) : formatWhatIf(a, args.options.all === true));
  return 0;
}

const whatifClient = clientCommand({
  name: 'whatif',
  summary: 'who would the OOM killer have killed under another policy or setting, and (--continue) what would have happened next',
  description:
    'Re-decides a recorded OOM from its candidate table and the oom state it was taken in, under the changes given.\n' +
    'With --continue, rebuilds the machine from its log up to the client command during which the OOM happened,\n' +
    'makes the change there, and runs the rest of the recorded workload (every client command after it) twice: as\n' +
    'recorded and with the change, then compares kills, allocation failures, survivors and /proc/meminfo at the end.\n' +
    'The machine runs in this process, from an export of its log (or a .mmlog file with --log: no server needed).\n' +
    'Overcommit and reclaim settings (vm.overcommit_memory, memory.high...) only show with --continue; --from-start\n' +
    'makes the change right after the boot instead, and runs the whole recorded workload under it.',
  options: [MACHINE_OPTION, ...WHATIF_OPTIONS, JSON_OPTION],
  positionals: [KILL],
  examples: [
    'mmsim oom whatif 1114 --adj 1001=-600',
    'mmsim oom whatif --policy linux-2.6.18',
    'mmsim oom whatif 1114 --adj 1001=-600 --continue',
    'mmsim oom whatif --sysctl vm.overcommit_memory=2 --continue --from-start',
    'mmsim oom whatif --cgroup /tenants/a:memory.oom.group=1',
    'mmsim oom whatif 1114 --log .mmsim/log/default/demo.mmlog --sysctl vm.panic_on_oom=1',
  ],
  async run(client, args, io) {
    const seq = killSeq(args, 'whatif');
    const changes = changesOf(args);
    if (args.options['from-start'] && !args.options.continue) throw new UsageError('mmsim oom whatif: --from-start goes with --continue');
    const machine = await machineOf(client, args);
    if (args.options.continue) return localWhatIf(await exportedLog(client, machine), seq, changes, args, io);
    const o = args.options;
    const r = await client.oom.whatIf({
      machine,
      seq: BigInt(seq),
      policy: (o.policy as string | undefined) ?? '',
      adj: (o.adj as string[] | undefined) ?? [],
      sysctl: (o.sysctl as string[] | undefined) ?? [],
      cgroup: (o.cgroup as string[] | undefined) ?? [],
      continue: false,
    });
    if (o.json) io.out(json(JSON.parse(r.json)));
    else io.out(formatWhatIf(JSON.parse(r.json) as Parameters<typeof formatWhatIf>[0], o.all === true));
    return 0;
  },
});

/** whatif reads a .mmlog file itself when --log is given: no server, no client options needed. */
const whatif: Command = {
  ...whatifClient,
  async run(args, io) {
    if (args.options.log === undefined) return whatifClient.run!(args, io);
    const seq = killSeq(args, 'whatif');
    const changes = changesOf(args);
    if (args.options['from-start'] && !args.options.continue) throw new UsageError('mmsim oom whatif: --from-start goes with --continue');
    let log;
    try {
      log = await decodeLog(readLogFile(args.options.log as string));
    } catch (e) {
      throw new UsageError(`mmsim oom whatif: cannot read ${String(args.options.log)}: ${(e as Error).message}`);
    }
    return localWhatIf(log, seq, changes, args, io);
  },
};

/** A snapshot file, read and checked; a bad one is a usage error (exit 2). */
export function readSnapshot(path: string, command: string): ProcSnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`mmsim ${command}: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseSnapshot(JSON.parse(text));
  } catch (e) {
    throw new UsageError(`mmsim ${command}: ${path} is not a /proc snapshot: ${(e as Error).message}`);
  }
}

export function profileOption(args: ParsedArgs, command: string): KernelProfile | undefined {
  const p = args.options.policy as string | undefined;
  if (p === undefined) return undefined;
  if (!isKernelProfile(p)) throw new UsageError(`mmsim ${command}: --policy takes linux-6.18 or linux-2.6.18, got "${p}"`);
  return p;
}

const score: Command = {
  name: 'score',
  summary: "oom_score of every process of a real machine's /proc snapshot (no server needed)",
  description:
    'Reads a snapshot in the format of capture-proc.py (tools/oom/capture.ts, `mmsim import --from-proc --save FILE`)\n' +
    'and prints "PID OOM_SCORE" for each process, computed by the model under the kernel the snapshot names\n' +
    '(or --policy). --compare adds the name and the oom_score the real kernel printed, and says whether they agree.',
  options: [
    { name: 'snapshot', type: 'string', valueName: 'FILE', description: 'the snapshot (JSON)' },
    { name: 'policy', type: 'string', valueName: 'PROFILE', description: 'score with linux-6.18 or linux-2.6.18 rules instead of the snapshot kernel\'s' },
    { name: 'compare', type: 'boolean', description: "show the name and the real kernel's oom_score beside ours" },
    JSON_OPTION,
  ],
  examples: ['mmsim oom score --snapshot test/fixtures/oom/adj-mix.json', 'mmsim oom score --snapshot snap.json --compare', 'mmsim oom score --snapshot snap.json --policy linux-2.6.18'],
  async run(args, io) {
    const file = args.options.snapshot as string | undefined;
    if (!file) throw new UsageError('mmsim oom score: --snapshot FILE is required (a live machine: `mmsim oom scores`)');
    const snap = readSnapshot(file, 'oom score');
    const profile = profileOption(args, 'oom score');
    const kernel = new Map(snap.processes.map((p) => [p.pid, p.oom_score]));
    let rows: { pid: number; name: string; points: string; oomScore: number; kernelOomScore: number }[];
    if (profile === undefined) {
      rows = scoreSnapshot(snap).map((s) => ({ pid: s.pid, name: s.name, points: formatPoints(s.points), oomScore: s.oomScore, kernelOomScore: s.kernelOomScore }));
    } else {
      const t = snapshotToOomTasks(snap);
      rows = scoresTable(t.tasks, t.totalPages, profile, t.nowNs).map((s) => ({ pid: s.pid, name: s.name, points: formatPoints(s.points), oomScore: s.oomScore, kernelOomScore: kernel.get(s.pid) ?? 0 }));
    }
    if (args.options.json) {
      io.out(json(rows));
      return 0;
    }
    if (!args.options.compare) {
      for (const r of rows) io.out(`${r.pid} ${r.oomScore}\n`);
      return 0;
    }
    const differ = rows.filter((r) => r.oomScore !== r.kernelOomScore).length;
    io.out(formatTable(['PID', 'NAME', 'POINTS', 'OOM_SCORE', 'KERNEL', ''], rows.map((r) => [String(r.pid), r.name, r.points, String(r.oomScore), String(r.kernelOomScore), r.oomScore === r.kernelOomScore ? '' : 'differs']), [true, false, true, true, true]));
    io.out(`\n${rows.length - differ} of ${rows.length} processes agree with the kernel's oom_score (${snap.kernel}${profile ? `, scored as ${profile}` : ''})\n`);
    return 0;
  },
};

export const oom: Command = {
  name: 'oom',
  summary: 'the OOM killer: kills, why, scores, what-if, userspace killers, real snapshots',
  subcommands: [kills, explain, scores, whatif, policy, score],
};
