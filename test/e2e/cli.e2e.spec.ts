// The `mmsim` command: every command's --help, wrong arguments (exit 2, naming the command),
// and the client commands against a running embedded server. Most runs call main() in this
// process (a fresh `node` per command costs seconds here); a few go through the real binary.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, main, ROOT, type Command } from '@mmsim/cli';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';
import { MMSIM_BIN } from '../distributed/support/cluster.js';

async function mmsim(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Every command path: ['serve'], ['heap', 'replay'], ... (groups and leaves). */
function paths(c: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const s of c.subcommands ?? []) {
    out.push([...prefix, s.name]);
    out.push(...paths(s, [...prefix, s.name]));
  }
  return out;
}
const all = paths(ROOT);
const leaves = all.filter((p) => {
  let c: Command = ROOT;
  for (const n of p) c = c.subcommands!.find((s) => s.name === n)!;
  return !c.subcommands?.length;
});

describe('mmsim: help and wrong arguments', () => {
  it('knows the commands the README lists', () => {
    const names = all.map((p) => p.join(' '));
    for (const n of ['serve', 'demo', 'ps', 'meminfo', 'proc', 'tail', 'export', 'replay']) expect(names).toContain(n);
  });

  it.each(all.map((p) => [p.join(' ')]))('mmsim %s --help exits 0 with a usage line', async (path) => {
    const r = await mmsim(...path.split(' '), '--help');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^usage: mmsim ${path}`));
  });

  it.each(leaves.map((p) => [p.join(' ')]))('mmsim %s --no-such-option exits 2 naming the command', async (path) => {
    const r = await mmsim(...path.split(' '), '--no-such-option');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`mmsim ${path}: unknown option --no-such-option`);
  });

  it('other wrong arguments exit 2 naming the command: a missing argument, a bad value, an unknown command', async () => {
    const cases: [string[], string][] = [
      [['replay'], 'mmsim replay: missing LOG'],
      [['proc'], 'mmsim proc: missing PATH'],
      [['serve', '--service', 'bogus'], 'mmsim serve: --service must be one of'],
      [['serve', '--listen', 'nowhere'], 'mmsim serve: --listen "nowhere" is not HOST:PORT'],
      [['serve', '--nats', 'nats://127.0.0.1:4222'], 'mmsim serve: --nats is for one service'],
      [['tail', '--count', 'many'], 'mmsim tail: --count takes a number'],
      [['ps', '--endpoint', 'a:1', '--endpoints', 'frames=a:1'], 'mmsim ps: give --endpoint or --endpoints, not both'],
      [['ps', '--endpoints', 'frames=127.0.0.1:1'], 'mmsim ps: --endpoints: missing vma, heap, oom'],
      [['nope'], 'mmsim: unknown command "nope"'],
    ];
    for (const [argv, msg] of cases) {
      const r = await mmsim(...argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toContain(msg);
    }
  });

  it('the binary: --help exits 0, a wrong argument exits 2 on stderr', () => {
    const help = spawnSync(process.execPath, [MMSIM_BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: mmsim <command>/);
    const bad = spawnSync(process.execPath, [MMSIM_BIN, 'serve', '--listen', '127.0.0.1:99999'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('mmsim serve: --listen "127.0.0.1:99999" is not HOST:PORT');
  });
});

describe('mmsim: client commands against a running embedded server', () => {
  let srv: EmbeddedServer;
  let demo: { code: number; out: string; err: string };
  const at = () => ['--endpoint', srv.server.address];

  beforeAll(async () => {
    srv = await startEmbedded();
    demo = await mmsim('demo', ...at(), '--ram', '128');
  }, 60_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('mmsim demo prints the OOM kill, why, and ps after it', () => {
    expect(demo.code, demo.err).toBe(0);
    expect(demo.out).toMatch(/^== machine demo: 128 MiB RAM/);
    expect(demo.out).toMatch(/Out of memory: Killed process \d+ \(postgres\)/);
    expect(demo.out).toMatch(/\*\d+\s+postgres .* VICTIM/);
    expect(demo.out).toContain('== ps after the kill ==');
  });

  it('mmsim ps and ps --json list the tasks, without the victim', async () => {
    const r = await mmsim('ps', ...at());
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^\s*PID\s+PPID\s+UID\s+NAME/);
    expect(r.out).toMatch(/leaky-worker/);
    expect(r.out).not.toMatch(/postgres/);
    const j = await mmsim('ps', ...at(), '--json');
    const tasks = JSON.parse(j.out) as { pid: number; name: string; vmRssKb: number }[];
    expect(tasks.map((t) => t.name)).toEqual(['init', 'sshd', 'nginx', 'leaky-worker']);
  });

  it('mmsim meminfo and mmsim proc read /proc files', async () => {
    const mi = await mmsim('meminfo', ...at());
    expect(mi.code, mi.err).toBe(0);
    expect(mi.out).toMatch(/^MemTotal:\s+\d+ kB\nMemFree:/);
    const p = await mmsim('proc', '/proc/meminfo', ...at());
    expect(p.out).toBe(mi.out);
    const status = await mmsim('proc', '/proc/1/status', ...at());
    expect(status.out).toMatch(/^Name:\s+init$/m);
    const missing = await mmsim('proc', '/proc/99999/status', ...at());
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^mmsim proc: not found: vma\.NO_SUCH_PID/);
  });

  it('mmsim tail -n prints that many events from the start of the log', async () => {
    const r = await mmsim('tail', '-n', '5', ...at());
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([1, 2, 3, 4, 5]);
    expect(lines[0]).toMatch(/frames\s+1\s+MachineBooted/);
    const from = await mmsim('tail', '-n', '2', '--from', '10', '--json', ...at());
    expect(from.out.trim().split('\n').map((l) => (JSON.parse(l) as { seq: string }).seq)).toEqual(['10', '11']);
  });

  it('mmsim export writes the log as the server stores it; mmsim replay checks it', async () => {
    const out = join(srv.dir, 'demo-export.mmlog');
    const e = await mmsim('export', '-o', out, ...at());
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(new RegExp(`^wrote ${out}: \\d+ events in \\d+ records, last seq \\d+`));
    expect(readFileSync(out).equals(readFileSync(srv.logFile('demo')))).toBe(true);
    const r = await mmsim('replay', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('every state hash and every recorded decision reproduced');
    const until = await mmsim('replay', out, '--until', '50');
    expect(until.out).toMatch(/^replayed 50 events of default\/demo up to seq 50/);
  });

  it('a client command with no server there says so and exits 1', async () => {
    const r = await mmsim('ps', '--endpoint', '127.0.0.1:1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mmsim ps: cannot reach mmsim at 127\.0\.0\.1:1/);
  });

  it('tail and export act for --tenant (a machine\'s log is its tenant\'s); an unknown machine is not found', async () => {
    const created = await mmsim('machine', 'create', 'box', '--ram', '128M', '--tenant', 'eve', ...at());
    expect(created.code, created.err).toBe(0);
    const tail = await mmsim('tail', '-n', '1', '--machine', 'box', '--tenant', 'eve', ...at());
    expect(tail.code, tail.err).toBe(0);
    expect(tail.out).toMatch(/^\s+1\s.*frames\s+1\s+MachineBooted/);
    const out = join(srv.dir, 'eve-box.mmlog');
    const exported = await mmsim('export', '-o', out, '--machine', 'box', '--tenant', 'eve', ...at());
    expect(exported.code, exported.err).toBe(0);
    expect(readFileSync(out).equals(readFileSync(srv.logFile('box', 'eve')))).toBe(true);
    // Not the default tenant's machine: there is no such machine there.
    const notMine = await mmsim('tail', '-n', '1', '--machine', 'box', ...at());
    expect(notMine.code).toBe(1);
    expect(notMine.err).toContain('mmsim tail: not found: log.NO_SUCH_MACHINE: default/box has no log');
  });
});
