// Records real memcg OOM kills: test/fixtures/oom/memcg-<scenario>.dmesg.txt. For each
// scenario it makes a child of this process's memory cgroup (cgroup v1) with a memory limit,
// starts hold-memory processes in it (static, ASLR off: identical holders get identical page
// tables, so their badness ties exactly), then a trigger process that grows its anonymous
// memory 1 MiB at a time until the kernel's OOM killer kills it. The kernel's OOM reports for
// the cgroup (the "Tasks state" dump with every figure badness read, and the victim) are cut
// from dmesg and written out; test/oracles/oom-memcg-kills.spec.ts re-decides each report with
// the model and checks the victim and the log lines.
//
//   npx tsx tools/oom/record-memcg-oom.ts [--check]
//
// Needs: Linux 6.x with the cgroup v1 memory controller mounted at /sys/fs/cgroup/memory and
// writable (root), cc (with a static libc), setarch, dmesg. No swap is assumed (totalpages =
// the limit).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_VERSION } from '../../packages/kernel/src/common/index.js';
import { decideOutOfMemory, oomReportToRequest, parseOomReports } from '../../packages/kernel/src/oom/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

interface Holder {
  readonly anonMb: number;
  readonly fileMb: number;
  readonly shmemMb: number;
  readonly adj: number;
}

const h = (anonMb: number, fileMb: number, shmemMb: number, adj: number): Holder => ({ anonMb, fileMb, shmemMb, adj });

export const MEMCG_SCENARIOS: Readonly<Record<string, { readonly limitMb: number; readonly holders: readonly Holder[] }>> = {
  // Two identical holders: their badness ties exactly; the trigger stays below them.
  tie: { limitMb: 300, holders: [h(100, 0, 0, 0), h(100, 0, 0, 0)] },
  // oom_score_adj scaled by the cgroup's totalpages (limit / 1000 pages per unit).
  adj: { limitMb: 400, holders: [h(150, 0, 0, 0), h(50, 0, 0, 500), h(100, 0, 0, 100)] },
  // File-backed and shmem memory count too.
  'file-shmem': { limitMb: 320, holders: [h(40, 0, 0, 0), h(0, 100, 0, 0), h(0, 0, 80, 0), h(30, 0, 0, 300)] },
};

function myMemoryCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l));
  if (!line) throw new Error('no cgroup v1 memory controller for this process (cgroup v2 is not supported by this recorder)');
  const dir = join('/sys/fs/cgroup/memory', line.split(':')[2]);
  if (!existsSync(join(dir, 'memory.limit_in_bytes'))) throw new Error(`${dir} is not a cgroup v1 memory cgroup`);
  return dir;
}

const uptime = (): number => parseFloat(readFileSync('/proc/uptime', 'utf8').split(/\s+/)[0]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const setarch = arch() === 'x64' ? 'x86_64' : arch();

function startIn(cg: string, bin: string, x: Holder, fileDir: string): Promise<ChildProcessWithoutNullStreams> {
  const args = [x.anonMb * 1024, x.fileMb * 1024, x.shmemMb * 1024, x.adj].map(String);
  const p = spawn('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec setarch ${setarch} -R ${bin} ${args.join(' ')} ${fileDir}`]);
  return new Promise((ok, fail) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) ok(p);
    });
    p.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    p.on('exit', (code, sig) => fail(new Error(`hold-memory exited (${code ?? sig}) before it was ready: ${out}`)));
  });
}

async function recordScenario(name: string, bin: string, parent: string, fileDir: string): Promise<string> {
  const sc = MEMCG_SCENARIOS[name];
  const cg = join(parent, `mmsim-oom-${name}-${process.pid}`);
  mkdirSync(cg);
  const procs: ChildProcessWithoutNullStreams[] = [];
  try {
    writeFileSync(join(cg, 'memory.limit_in_bytes'), String(sc.limitMb * 1024 * 1024));
    const since = uptime();
    for (const x of sc.holders) procs.push(await startIn(cg, bin, x, fileDir));
    const trigger = await startIn(cg, bin, h(0, 0, 0, 0), fileDir);
    procs.push(trigger);
    trigger.stdin.on('error', () => {}); // EPIPE once the OOM killer got it
    const alive = (): boolean => trigger.exitCode === null && trigger.signalCode === null;
    for (let step = 0; step < 4000 && alive(); step++) {
      trigger.stdin.write('anon 1024\n');
      await sleep(5);
    }
    await sleep(3000); // the reports of kills that follow the trigger's
    const cgName = cg.slice(cg.lastIndexOf('/'));
    const log = execFileSync('dmesg', { encoding: 'utf8' }).split('\n');
    const mine = log.filter((l) => {
      const t = /^\[\s*(\d+\.\d+)\]/.exec(l);
      return t !== null && Number(t[1]) >= since;
    });
    // Keep each report whose summary names our cgroup: from its "invoked" line to its last "Killed process".
    const out: string[] = [];
    let report: string[] = [];
    let ours = false;
    for (const l of mine) {
      if (/ invoked oom-killer: /.test(l)) {
        if (ours) out.push(...report);
        report = [];
        ours = false;
      }
      report.push(l);
      if (l.includes('oom-kill:') && l.includes(cgName)) ours = true;
    }
    if (ours) out.push(...report);
    const body = out.filter((l) => !/ (Call Trace|RIP|RSP|RAX|RDX|RBP|R10|R13|Code):|^\[[^\]]*\]\s+(\? )?[\w.]+\+0x|<\/?TASK>/.test(l));
    const holders = sc.holders.map((x) => `${x.anonMb}/${x.fileMb}/${x.shmemMb} MiB adj ${x.adj}`).join('; ');
    return (
      `# memcg OOM, scenario ${name}: limit ${sc.limitMb} MiB, holders (anon/file/shmem, oom_score_adj) ${holders}, ` +
      `then a trigger growing 1 MiB at a time. Recorded by tools/oom/record-memcg-oom.ts on ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}.\n` +
      body.join('\n') +
      '\n'
    );
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await sleep(500);
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(cg);
        break;
      } catch {
        await sleep(250);
      }
    }
  }
}

/** Re-decides every report of a recorded text; returns one line per report. */
export function checkReports(text: string): { lines: string[]; ok: boolean } {
  const reports = parseOomReports(text);
  const lines: string[] = [];
  let ok = reports.length > 0;
  const killed: number[] = [];
  for (const r of reports) {
    const req = oomReportToRequest(r, { reapedVictims: killed.filter((p) => r.tasks.some((t) => t.tgid === p)) });
    const e = decideOutOfMemory(req, {
      profile: 'linux-6.18',
      modelVersion: MODEL_VERSION,
      policy: { panicOnOom: 0, oomKillAllocatingTask: 0 },
      killSeq: 0,
      victims: [],
      totalRamPages: 0,
      totalSwapPages: 0,
    });
    const model = e.type === 'OomKillDecided' ? e.killed[0].pid : -1;
    const same = model === r.killedPid && e.logLines.includes(r.killedLines[0]);
    ok &&= same;
    lines.push(`kernel killed ${r.killedPid}, model ${model}${same ? '' : '  <-- differs'}`);
    killed.push(r.killedPid);
  }
  return { lines, ok };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const work = mkdtempSync(join(tmpdir(), 'mmsim-memcg-oom-'));
  try {
    const bin = join(work, 'hold-memory');
    execFileSync('cc', ['-O2', '-static', '-o', bin, join(here, 'hold-memory.c')], { stdio: 'inherit' });
    const parent = myMemoryCgroup();
    let failed = false;
    for (const name of Object.keys(MEMCG_SCENARIOS)) {
      const text = await recordScenario(name, bin, parent, work);
      const r = checkReports(text);
      const file = join(check ? work : join(repo, 'test/fixtures/oom'), `memcg-${name}.dmesg.txt`);
      if (!check) writeFileSync(file, text);
      console.log(`${name}: ${r.lines.length} report(s)${check ? '' : ` -> ${file}`}\n  ${r.lines.join('\n  ')}`);
      if (!r.ok) failed = true;
    }
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
