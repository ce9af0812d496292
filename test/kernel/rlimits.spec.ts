// RLIMIT_AS and RLIMIT_DATA through the services (mm/mmap.c may_expand_vm): a mapping or a brk
// that would take total_vm (RLIMIT_AS) or the private writable data (RLIMIT_DATA) past the limit
// fails with ENOMEM, malloc returns NULL, and nobody is killed. RLIMIT_DATA does not count
// read-only or shared mappings. The log replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineRef } from '@mmsim/proto';
import { createMachine, expectLogReplays, MAP_ANONYMOUS, MAP_SHARED, MiB, mmap, PAGE, PROT_READ, spawn, startEmbedded, status, syscall, type EmbeddedServer } from './support.js';

const ENOMEM = -12;

describe('RLIMIT_AS and RLIMIT_DATA', () => {
  let srv: EmbeddedServer;
  let m: MachineRef;
  const as: Record<string, number | bigint | string> = {};
  const data: Record<string, number | bigint | string> = {};
  let kills = -1;

  beforeAll(async () => {
    srv = await startEmbedded();
    const c = srv.client;
    m = await createMachine(c, 'limits', { ramBytes: 512 * MiB });
    const malloc = async (pid: number, size: number) => {
      const r = await c.heap.malloc({ target: { machine: m, pid, tid: 0 }, size: BigInt(size) });
      return { value: r.result!.value, signal: r.result!.signal };
    };

    // RLIMIT_AS = what the process maps at start + 64 MiB.
    const probe = await spawn(c, m, 'probe');
    const vmSizeKb = (await status(c, m, probe)).VmSize;
    const limit = vmSizeKb * 1024 + 64 * MiB;
    const p = await spawn(c, m, 'as-limited', { rlimits: { RLIMIT_AS: limit } });
    const start = (await status(c, m, p)).VmSize * 1024;
    as.room = limit - start;
    as.fits = await mmap(c, m, p, limit - start); // total_vm + npages == limit: allowed
    as.onePageMore = await mmap(c, m, p, PAGE);
    const brk0 = await syscall(c, m, p, 'brk', [0]);
    as.brkGrew = (await syscall(c, m, p, 'brk', [brk0 + MiB])) - brk0;
    const r = await malloc(p, 4 * MiB);
    as.malloc = r.value;
    as.signal = r.signal;

    // RLIMIT_DATA = 16 MiB: private writable mappings count, read-only and shared ones do not.
    const d = await spawn(c, m, 'data-limited', { rlimits: { RLIMIT_DATA: 16 * MiB } });
    const dataKb = (await status(c, m, d)).VmData;
    data.dataAtStartKb = dataKb;
    data.tooMuch = await mmap(c, m, d, 16 * MiB);
    data.readOnly = await mmap(c, m, d, 64 * MiB, { prot: PROT_READ });
    data.shared = await mmap(c, m, d, 64 * MiB, { flags: MAP_SHARED | MAP_ANONYMOUS });
    data.fits = await mmap(c, m, d, 16 * MiB - dataKb * 1024);
    const rd = await malloc(d, 2 * MiB);
    data.malloc = rd.value;
    data.signal = rd.signal;
    kills = (await c.oom.listKills({ machine: m })).kills.length;
    await srv.stop();
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
  });

  it('RLIMIT_AS: up to the limit maps; one page more, a brk and a malloc past it fail (ENOMEM, NULL)', () => {
    expect(as.room).toBeGreaterThan(60 * MiB);
    expect(as.fits).toBeGreaterThan(0);
    expect(as.onePageMore).toBe(ENOMEM);
    expect(as.brkGrew).toBe(0);
    expect(as.malloc).toBe(0n);
    expect(as.signal).toBe('');
  });

  it('RLIMIT_DATA: a private writable mapping past it fails; read-only and shared ones are not counted', () => {
    expect(Number(data.dataAtStartKb)).toBeGreaterThan(0);
    expect(data.tooMuch).toBe(ENOMEM);
    expect(data.readOnly).toBeGreaterThan(0);
    expect(data.shared).toBeGreaterThan(0);
    expect(data.fits).toBeGreaterThan(0);
    expect(data.malloc).toBe(0n);
    expect(data.signal).toBe('');
  });

  it('no OOM kill', () => {
    expect(kills).toBe(0);
  });

  it('the log replays', async () => {
    await expectLogReplays(srv, 'limits');
  });
});
