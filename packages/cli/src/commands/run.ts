// mmsim run SCENARIO.json: a workload written as JSON (packages/sdk/src/scenario/types.ts;
// examples/scenarios/), run step by step against a server, then what happened to the machine.
import { readFileSync } from 'node:fs';
import { parseScenario, runScenario, ScenarioError, type MmsimClient, type Scenario, type ScenarioResult } from '@mmsim/sdk';
import type { MachineRef } from '@mmsim/proto';
import type { AllInOne } from '@mmsim/service-all-in-one';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EMBEDDED_OPTIONS, withServerOrEmbedded } from '../embedded-fallback.js';
import type { Io } from '../io.js';
import { meminfoFields } from '../meminfo-text.js';

const MEMINFO_KEYS = ['MemTotal', 'MemFree', 'MemAvailable', 'Cached', 'AnonPages', 'Shmem', 'SwapTotal', 'SwapFree', 'Committed_AS'];

export const run: Command = {
  name: 'run',
  summary: 'run a JSON scenario (a machine and a workload) and report its OOM kills, NULL mallocs and memory',
  description: [
    'SCENARIO is a JSON file: {"machine": {"name", "ramBytes", "swapBytes", "profile", "cpus", "seed", "sysctls"},',
    '"steps": [...]}, each step one of spawn, fork, exit, kill, malloc, calloc, realloc, free, write, mmap, munmap,',
    'touch, readFile, adj, sysctl, cgroup, advance, repeat (packages/sdk/README.md; examples/scenarios/*.json).',
    'The whole file is checked before anything runs; a wrong field is reported with its place (steps[3].malloc.size).',
    'Steps run one at a time, so the same scenario and seed give the same log. Uses the server at',
    '--endpoint/--endpoints; with none given and none running on 127.0.0.1:50051, starts the embedded server in this',
    'process (logs under .mmsim/log). Exit status: 0 when the scenario ran to its end, 1 when a step failed, 2 for a',
    'bad command line or scenario.',
  ].join('\n'),
  positionals: [{ name: 'scenario', description: 'the scenario file (JSON; - reads stdin)', required: true }],
  options: [
    { name: 'machine', short: 'm', type: 'string', description: "run on this machine name instead of the scenario's" },
    { name: 'seed', type: 'number', description: "the machine's seed instead of the scenario's" },
    { name: 'reuse', type: 'boolean', description: 'run the steps on the machine as it is (it must exist) instead of creating it' },
    { name: 'trace', type: 'boolean', description: 'print each top-level step and what it returned' },
    { name: 'json', type: 'boolean', description: 'print the outcome as JSON' },
    ...EMBEDDED_OPTIONS,
  ],
  examples: ['mmsim run examples/scenarios/tenants-memcg.json', 'mmsim run my.json --machine try-2 --seed 7 --trace'],
  run(args, io) {
    const scenario = readScenario(args);
    return withServerOrEmbedded('run', args, io, (client, server) => runIt(client, scenario, args, io, server));
  },
};

function readScenario(args: ParsedArgs): Scenario {
  const path = args.positionals.scenario as string;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new UsageError(`mmsim run: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let s: Scenario;
  try {
    s = parseScenario(text);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(`mmsim run: ${path === '-' ? 'stdin' : path}: ${e.message}`);
    throw e;
  }
  const name = args.options.machine as string | undefined;
  const seed = args.options.seed as number | undefined;
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0)) throw new UsageError(`mmsim run: --seed takes a whole number, got ${seed}`);
  return { ...s, machine: { ...s.machine, ...(name ? { name } : {}), ...(seed !== undefined ? { seed } : {}) } };
}

interface Outcome {
  readonly machine: string;
  readonly steps: number;
  readonly calls: number;
  readonly nullReturns: number;
  readonly killed: readonly number[];
  readonly kills: readonly { seq: number; victim: number; logLine: string }[];
  readonly meminfo: Readonly<Record<string, number>>;
  readonly failed?: { readonly step: number; readonly error: string };
}

async function runIt(client: MmsimClient, scenario: Scenario, args: ParsedArgs, io: Io, server: AllInOne | undefined): Promise<number> {
  const o = args.options;
  const machine: MachineRef = { tenant: client.tenant, machine: scenario.machine.name };
  if (!o.json) io.out(`== ${scenario.machine.name}: ${scenario.steps.length} steps${o.reuse ? ' on the existing machine' : ''} ==\n`);
  let calls = 0;
  let done = 0;
  let result: ScenarioResult | undefined;
  let failed: Outcome['failed'];
  try {
    result = await runScenario(client, scenario, {
      reuseMachine: o.reuse === true,
      onStep: (i, step, note) => {
        done = i + 1;
        if (o.trace && !o.json) io.out(`  [${i}] ${Object.keys(step)[0]}: ${note}\n`);
      },
      onProgress: io.isTty && !o.trace ? () => io.err(`\r${++calls} calls`) : () => void ++calls,
    });
  } catch (e) {
    // The machine keeps what the steps before did; say which step stopped and why.
    const se = e as { code?: number; details?: string; message?: string };
    if (typeof se.code !== 'number' && !(e instanceof ScenarioError)) throw e;
    failed = { step: done, error: se.details ?? se.message ?? String(e) };
    if (done === 0 && !o.reuse && typeof se.code === 'number' && !(await exists(client, machine))) {
      // The machine was never made: nothing to report on.
      io.err(`${io.isTty ? '\n' : ''}mmsim run: the machine could not be created: ${failed.error}\n`);
      return 1;
    }
  }
  if (io.isTty && !o.trace) io.err('\n');
  const kills = (await client.oom.listKills({ machine })).kills.map((k) => ({ seq: Number(k.seq), victim: k.victim, logLine: k.logLine }));
  const meminfo = meminfoFields((await client.readProc(machine, '/proc/meminfo')).text, MEMINFO_KEYS);
  const outcome: Outcome = {
    machine: machine.machine,
    steps: done,
    calls,
    nullReturns: result?.nullReturns ?? 0,
    killed: result?.killed ?? [],
    kills,
    meminfo,
    ...(failed ? { failed } : {}),
  };
  if (o.json) io.out(JSON.stringify(outcome, null, 2) + '\n');
  else report(outcome, scenario, server, io, client.tenant);
  if (failed && !o.json) io.err(`mmsim run: steps[${failed.step}] failed: ${failed.error}\n`);
  return failed ? 1 : 0;
}

async function exists(client: MmsimClient, m: MachineRef): Promise<boolean> {
  return (await client.machines.listMachines({})).machines.some((x) => x.config?.ref?.machine === m.machine);
}

function report(r: Outcome, scenario: Scenario, server: AllInOne | undefined, io: Io, tenant: string): void {
  io.out(`${r.steps} of ${scenario.steps.length} steps, ${r.calls} calls; malloc/calloc/realloc returned NULL ${r.nullReturns} time(s)\n`);
  if (r.kills.length === 0) io.out('no OOM kill\n');
  else {
    io.out(`${r.kills.length} OOM decision(s):\n`);
    for (const k of r.kills) io.out(`  seq ${k.seq}: ${k.logLine}\n`);
  }
  io.out('/proc/meminfo at the end:\n');
  for (const [k, v] of Object.entries(r.meminfo)) io.out(`  ${(k + ':').padEnd(15)} ${String(v).padStart(9)} kB\n`);
  io.out('next:\n');
  if (r.kills.length) io.out(`  mmsim oom explain --machine ${r.machine} ${r.kills[0].seq}   # why that victim\n`);
  if (server) io.out(`  mmsim replay ${server.logDir}/${tenant}/${r.machine}.mmlog   # rebuild every state from the log\n`);
  else io.out(`  mmsim ps --machine ${r.machine}\n`);
}
