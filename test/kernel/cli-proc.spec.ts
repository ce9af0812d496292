// `mmsim proc PATH` and `mmsim sysctl` against an embedded server: every modelled /proc file of
// a machine prints, exits 0, and is the same text the SDK's ReadProc gets; each is checked for
// what identifies it (the first meminfo label, a zone header, a process's Name: line...).
// A path that is not modelled, or a pid that does not exist, is an error with exit status 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, main } from '@mmsim/cli';
import { createMachine, MiB, mmap, readText, spawn, startEmbedded, touch, type EmbeddedServer } from './support.js';

const SYSCTLS = [
  'overcommit_memory', 'overcommit_ratio', 'overcommit_kbytes', 'admin_reserve_kbytes', 'user_reserve_kbytes',
  'min_free_kbytes', 'watermark_scale_factor', 'swappiness', 'panic_on_oom', 'oom_kill_allocating_task',
];

describe('mmsim proc and mmsim sysctl', () => {
  let srv: EmbeddedServer;
  let pid = 0;
  const cli = async (...argv: string[]) => {
    const io = bufferIo();
    const code = await main([...argv, '--endpoint', srv.server.address, '--machine', 'procs'], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    const m = await createMachine(c, 'procs', { ramBytes: 512 * MiB, swapBytes: 64 * MiB });
    pid = await spawn(c, m, 'worker');
    const a = await mmap(c, m, pid, 4 * MiB);
    await touch(c, m, pid, a, 4 * MiB);
    await c.heap.malloc({ target: { machine: m, pid, tid: 0 }, size: 1000n });
  }, 60_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  const files = (): [string, RegExp][] => [
    ['/proc/meminfo', /^MemTotal:\s+\d+ kB\n/],
    ['/proc/vmstat', /^nr_free_pages \d+\n/],
    ['/proc/buddyinfo', /^Node 0, zone\s+DMA(\s+\d+){11}\s*\n/],
    ['/proc/zoneinfo', /^Node 0, zone\s+DMA\n/],
    [`/proc/${pid}/status`, /^Name:\tworker\n/],
    [`/proc/${pid}/maps`, /\[heap\]\n[\s\S]*\[stack\]\n/],
    [`/proc/${pid}/smaps`, /^[0-9a-f]+-[0-9a-f]+ r--p [\s\S]*\nRss:\s+\d+ kB\n[\s\S]*VmFlags:/],
    [`/proc/${pid}/smaps_rollup`, /\[rollup\]\nRss:\s+\d+ kB\n/],
    [`/proc/${pid}/stat`, new RegExp(`^${pid} \\(worker\\) S `)],
    [`/proc/${pid}/oom_score`, /^\d+\n$/],
    [`/proc/${pid}/oom_score_adj`, /^0\n$/],
    [`/proc/${pid}/oom_adj`, /^0\n$/],
    ...SYSCTLS.map((n): [string, RegExp] => [`/proc/sys/vm/${n}`, /^\d+\n$/]),
  ];

  it('prints every modelled file, exactly as the SDK reads it', async () => {
    const m = { tenant: srv.client.tenant, machine: 'procs' };
    for (const [path, shape] of files()) {
      const r = await cli('proc', path);
      expect(r.code, `${path}: ${r.err}`).toBe(0);
      expect(r.out, path).toMatch(shape);
      expect(r.out, path).toBe(await readText(srv.client, m, path));
    }
  });

  it('min_free_kbytes is the kernel-computed value, not -1', async () => {
    const r = await cli('proc', '/proc/sys/vm/min_free_kbytes');
    expect(Number(r.out)).toBeGreaterThan(128);
  });

  it('`mmsim sysctl` writes and reads; the next `mmsim proc` shows it', async () => {
    expect((await cli('sysctl', 'vm.swappiness', '10')).out).toBe('vm.swappiness = 10\n');
    expect((await cli('sysctl', 'vm.swappiness')).out).toBe('vm.swappiness = 10\n');
    expect((await cli('proc', '/proc/sys/vm/swappiness')).out).toBe('10\n');
  });

  it('a file that is not modelled, or a pid that does not exist, is an error (exit 1)', async () => {
    const a = await cli('proc', '/proc/slabinfo');
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/not found/);
    const b = await cli('proc', '/proc/99999/status');
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/99999/);
  });
});
