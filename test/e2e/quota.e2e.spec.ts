// Per-tenant quotas (mmsim serve --max-machines / --max-ram): a CreateMachine over quota is
// RESOURCE_EXHAUSTED with a message that says which limit, writes nothing, and leaves other
// tenants alone; concurrent creates of one tenant cannot pass the check together.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, main } from '@mmsim/cli';
import { connect, type MmsimClient } from '@mmsim/sdk';
import { startAllInOne, type AllInOne } from '@mmsim/service-all-in-one';

const MiB = 2n ** 20n;

describe('per-tenant quotas', () => {
  let dir: string;
  let server: AllInOne;
  let alice: MmsimClient;
  let bob: MmsimClient;
  let carol: MmsimClient;
  const create = (c: MmsimClient, machine: string, ramMiB: bigint) =>
    c.machines.createMachine({ machine: { tenant: '', machine }, profile: '', ramBytes: ramMiB * MiB, swapBytes: 0n, cpus: 2, seed: 1n, sysctls: [] });
  const refused = async (p: Promise<unknown>, why: RegExp) => {
    const e = (await p.then(
      () => undefined,
      (x: unknown) => x,
    )) as { code?: number; details?: string } | undefined;
    expect(e, 'the call should have been refused').toBeDefined();
    expect(e!.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e!.details).toMatch(why);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmsim-quota-'));
    server = await startAllInOne({ listen: '127.0.0.1:0', logDir: join(dir, 'log'), logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, tenantQuota: { maxMachines: 2, maxRamBytes: 768 * 2 ** 20 } });
    alice = connect({ endpoint: server.address, tenant: 'alice' });
    bob = connect({ endpoint: server.address, tenant: 'bob' });
    carol = connect({ endpoint: server.address, tenant: 'carol' });
  });
  afterAll(async () => {
    for (const c of [alice, bob, carol]) c?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--max-machines: the third machine of a tenant is refused, and nothing of it is written', async () => {
    await create(alice, 'a1', 128n);
    await create(alice, 'a2', 128n);
    await refused(create(alice, 'a3', 128n), /vma\.TENANT_MACHINES: tenant alice has 2 machine\(s\), the most this server allows per tenant \(--max-machines 2\)/);
    expect(existsSync(join(dir, 'log', 'alice', 'a3.mmlog'))).toBe(false);
    expect((await alice.machines.listMachines({})).machines.map((m) => m.config!.ref!.machine)).toEqual(['a1', 'a2']);
  });

  it('another tenant has its own count', async () => {
    await create(bob, 'b1', 128n);
    expect((await bob.machines.listMachines({})).machines).toHaveLength(1);
  });

  it("--max-ram: the sum of a tenant's machines' RAM (512 + 512 > 768 MiB)", async () => {
    await create(carol, 'c1', 512n);
    await refused(create(carol, 'c2', 512n), /vma\.TENANT_RAM: tenant carol's machines have 512 MiB of RAM; 512 MiB more would pass the 768 MiB this server allows per tenant/);
    await create(carol, 'c2', 256n); // 768: exactly the limit
  });

  it('concurrent creates of one tenant: exactly as many pass as the quota allows', async () => {
    const dave = connect({ endpoint: server.address, tenant: 'dave' });
    try {
      const r = await Promise.allSettled(['d1', 'd2', 'd3', 'd4'].map((m) => create(dave, m, 128n)));
      expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(2);
      for (const x of r) if (x.status === 'rejected') expect((x.reason as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);
      expect((await dave.machines.listMachines({})).machines).toHaveLength(2);
    } finally {
      dave.close();
    }
  });

  it('mmsim serve checks its quota flags', async () => {
    const run = async (...argv: string[]) => {
      const io = bufferIo();
      return { code: await main(argv, io), err: io.stderr() };
    };
    expect(await run('serve', '--max-machines', '0')).toMatchObject({ code: 2, err: expect.stringMatching(/--max-machines takes a whole number >= 1, got 0/) });
    expect(await run('serve', '--max-ram', 'lots')).toMatchObject({ code: 2, err: expect.stringMatching(/--max-ram takes a size of at least 128M/) });
    expect(await run('serve', '--service', 'heap', '--max-machines', '3')).toMatchObject({ code: 2, err: expect.stringMatching(/enforced by the vma service; give them to --service vma, not heap/) });
  });
});
