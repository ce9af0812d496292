// Bad calls get a gRPC error with a status that says what is wrong and a message that says
// why, and leave the log as it was (same files, same bytes). Simulated failures are not bad
// calls: the real API answers them with a value (malloc's NULL, mmap's -ENOMEM, a SIGSEGV), so
// mmsim answers them normally and logs them as events.
//
// Which is which, as the real API decides:
// - malloc/calloc/realloc take any size_t: a size the address space cannot hold is NULL with
//   ENOMEM (malloc(2^50), malloc(2^53 - 1), malloc(2^60), malloc(2^64 - 1), calloc(2^40, 2^40)
//   overflowing). The model takes sizes exactly up to 2^53 - 1; a size beyond takes glibc's
//   path as 2^53 - 1 would (nothing that large can be mapped), and from PTRDIFF_MAX + 1 glibc
//   refuses before looking at the heap (services/heap heap-grpc.ts size()).
// - System calls take unsigned longs: mmap(len = -4096) is len 2^64 - 4096, -ENOMEM; brk(-1)
//   is 2^64 - 1, which no double holds: refused (vma.ARG_BEYOND_MODEL), the same limit.
// - free(a wild pointer) is a crash of the process (SIGSEGV), a result.
// - A machine, pid or /proc file that does not exist is NOT_FOUND; a malformed request, a value
//   outside its domain (pid 0, oom_score_adj 2000, an unknown sysctl) INVALID_ARGUMENT; another
//   tenant's machine PERMISSION_DENIED; a call the state forbids (a second machine of one name,
//   killing init) FAILED_PRECONDITION.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type MmsimClient } from '@mmsim/sdk';
import type { MachineRef } from '@mmsim/proto';
import { startEmbedded, type EmbeddedServer } from './support/embedded.js';

describe('bad calls: a status, a message, and the log unchanged', () => {
  let srv: EmbeddedServer;
  let c: MmsimClient;
  let eve: MmsimClient;
  let raw: Client;
  const machine: MachineRef = { tenant: 'default', machine: 'bad' };
  const nowhere: MachineRef = { tenant: '', machine: 'nowhere' };
  let pid: number;

  /** Every file of the log directory and its bytes. */
  const logState = (): Map<string, string> => {
    const out = new Map<string, string>();
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name !== '.lock') out.set(relative(srv.logDir, p), readFileSync(p).toString('base64'));
      }
    };
    walk(srv.logDir);
    return out;
  };

  /** The call fails with `code` and a message matching `details`, and the log does not change. */
  async function refused(call: () => Promise<unknown>, code: status, details: RegExp): Promise<void> {
    const before = logState();
    const e = (await call().then(
      (r) => {
        throw new Error(`expected ${status[code]}, got a reply: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      },
      (x: unknown) => x,
    )) as ServiceError;
    expect({ code: status[e.code], details: e.details }).toMatchObject({ code: status[code], details: expect.stringMatching(details) });
    expect(logState()).toEqual(before);
  }

  /** The call is answered (a simulated failure) and logged: the log grows. */
  async function answered<T>(call: () => Promise<T>): Promise<T> {
    const before = readFileSync(srv.logFile('bad')).length;
    const r = await call();
    expect(readFileSync(srv.logFile('bad')).length).toBeGreaterThan(before);
    return r;
  }

  const spawn = async (name = 'p', cl = c, m = machine) =>
    (await cl.vma.spawn({ machine: m, name, uid: 1000, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n })).task!.pid;
  const target = (p: number, m: MachineRef = machine) => ({ machine: m, pid: p, tid: 0 });
  const rawCall = (path: string, bytes: Buffer) =>
    new Promise<unknown>((resolve, reject) =>
      raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))),
    );

  beforeAll(async () => {
    srv = await startEmbedded();
    c = srv.client;
    eve = connect({ endpoint: srv.server.address, tenant: 'eve' });
    raw = new Client(srv.server.address, credentials.createInsecure());
    await c.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 128n * 2n ** 20n, swapBytes: 0n, cpus: 2, seed: 3n, sysctls: [] });
    pid = await spawn();
    await c.heap.malloc({ target: target(pid), size: 100n });
  }, 60_000);
  afterAll(async () => {
    eve?.close();
    raw?.close();
    await srv?.dispose();
  });

  it('an unknown machine is NOT_FOUND on every service, naming the machine, and no log appears for it', async () => {
    const m = /NO_SUCH_MACHINE: (no machine nowhere|default\/nowhere has no log)/;
    await refused(() => c.vma.spawn({ machine: nowhere, name: 'x', uid: 0, nice: 0, parent: 0, oomScoreAdj: 0, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n }), status.NOT_FOUND, m);
    await refused(() => c.vma.listTasks({ machine: nowhere, all: false }), status.NOT_FOUND, m);
    await refused(() => c.heap.malloc({ target: target(pid, nowhere), size: 10n }), status.NOT_FOUND, m);
    await refused(() => c.heap.mallinfo2({ target: target(pid, nowhere) }), status.NOT_FOUND, m);
    await refused(() => c.readProc(nowhere, '/proc/meminfo'), status.NOT_FOUND, m);
    await refused(() => c.readProc(nowhere, '/proc/1/status'), status.NOT_FOUND, m);
    await refused(() => c.oom.listKills({ machine: nowhere }), status.NOT_FOUND, m);
    await refused(() => c.oom.scores({ machine: nowhere }), status.NOT_FOUND, m);
    await refused(() => c.machines.getMachine({ machine: nowhere }), status.NOT_FOUND, m);
    await refused(() => c.machines.advanceTime({ machine: nowhere, ns: 5n }), status.NOT_FOUND, m);
    await refused(() => c.machines.sysctl({ machine: nowhere, name: 'vm.swappiness', value: '10' }), status.NOT_FOUND, m);
    await refused(() => new Promise((res, rej) => c.raw.log.replay({ source: { $case: 'machine', value: nowhere }, toSeq: 0n }, (e, r) => (e ? rej(e) : res(r)))), status.NOT_FOUND, m);
    expect([...logState().keys()]).toEqual(['default/bad.mmlog']);
  });

  it('an unknown pid is NOT_FOUND', async () => {
    const m = /NO_SUCH_PID: no (process|task) 4242|\/proc\/4242: no such process|process 4242 has made no allocator call/;
    await refused(() => c.heap.malloc({ target: target(4242), size: 10n }), status.NOT_FOUND, m);
    await refused(() => c.heap.free({ target: target(4242), ptr: 0n }), status.NOT_FOUND, m);
    await refused(() => c.heap.inspectHeap({ target: target(4242) }), status.NOT_FOUND, m);
    await refused(() => c.vma.kill({ machine, pid: 4242, signal: '' }), status.NOT_FOUND, m);
    await refused(() => c.vma.touch({ machine, pid: 4242, addr: 4096n, length: 1n, write: true }), status.NOT_FOUND, m);
    await refused(() => c.vma.syscall({ machine, pid: 4242, nr: 'brk', args: [0n], filePath: '', fileSize: 0n }), status.NOT_FOUND, m);
    await refused(() => c.vma.fork({ machine, pid: 4242 }), status.NOT_FOUND, m);
    await refused(() => c.vma.exit({ machine, pid: 4242, code: 0 }), status.NOT_FOUND, m);
    await refused(() => c.vma.setOomScoreAdj({ machine, pid: 4242, oomScoreAdj: 0, legacyOomAdj: false }), status.NOT_FOUND, m);
    await refused(() => c.readProc(machine, '/proc/4242/status'), status.NOT_FOUND, m);
  });

  it('values outside their domain are INVALID_ARGUMENT, saying which and why', async () => {
    await refused(() => c.heap.malloc({ target: target(0), size: 10n }), status.INVALID_ARGUMENT, /edge\.INVALID_PID: pid must be a positive integer, got 0/);
    await refused(() => c.heap.mallopt({ target: target(pid), param: 99, value: 1n }), status.INVALID_ARGUMENT, /heap\.INVALID_MALLOPT: unknown mallopt parameter 99/);
    await refused(() => c.vma.syscall({ machine, pid, nr: 'brk', args: [-1n], filePath: '', fileSize: 0n }), status.INVALID_ARGUMENT, /vma\.ARG_BEYOND_MODEL: brk addr = -1 \(18446744073709551615 as the kernel's unsigned long\)/);
    await refused(() => c.vma.syscall({ machine, pid, nr: 'fork', args: [], filePath: '', fileSize: 0n }), status.INVALID_ARGUMENT, /vma\.UNKNOWN_SYSCALL/);
    await refused(() => c.vma.syscall({ machine, pid, nr: 'mmap', args: [0n], filePath: '', fileSize: 0n }), status.INVALID_ARGUMENT, /mmap takes 4 arguments, got 1/);
    await refused(() => c.vma.touch({ machine, pid, addr: 4096n, length: 0n, write: true }), status.INVALID_ARGUMENT, /length must be > 0/);
    await refused(() => c.vma.kill({ machine, pid, signal: 'SIGTERM' }), status.INVALID_ARGUMENT, /only SIGKILL is modelled/);
    await refused(() => c.vma.spawn({ machine, name: 'x', uid: 0, nice: 0, parent: 0, oomScoreAdj: 2000, rlimits: [], capabilities: [], cgroup: '', env: [], brkStart: 0n }), status.INVALID_ARGUMENT, /oom_score_adj must be -1000\.\.1000, got 2000/);
    await refused(() => c.vma.setRlimit({ machine, pid, rlimit: { resource: 'RLIMIT_NOPE', soft: 1n, hard: 1n } }), status.INVALID_ARGUMENT, /unknown rlimit "RLIMIT_NOPE"/);
    await refused(() => c.machines.sysctl({ machine, name: 'vm.nope', value: '1' }), status.INVALID_ARGUMENT, /unknown sysctl "vm\.nope"/);
    await refused(() => c.machines.sysctl({ machine, name: 'vm.overcommit_memory', value: '7' }), status.INVALID_ARGUMENT, /takes an integer in \[0, 2\], got "7"/);
    await refused(() => c.vma.listTasks({ machine: { tenant: '', machine: 'a/b' }, all: false }), status.INVALID_ARGUMENT, /machine "a\/b" must be 1-128 of/);
    await refused(() => c.machines.createMachine({ machine: { tenant: '', machine: 'small' }, profile: 'linux-6.18', ramBytes: 2n ** 20n, swapBytes: 0n, cpus: 2, seed: 1n, sysctls: [] }), status.INVALID_ARGUMENT, /ramBytes must be a multiple of 4096 in \[128 MiB, 256 GiB\]/);
    await refused(() => c.machines.createMachine({ machine: { tenant: '', machine: 'small' }, profile: 'linux-9', ramBytes: 2n ** 27n, swapBytes: 0n, cpus: 2, seed: 1n, sysctls: [] }), status.INVALID_ARGUMENT, /profile "linux-9" is not linux-6\.18 or linux-2\.6\.18/);
    await refused(() => c.readProc(machine, '/proc/nope'), status.NOT_FOUND, /\/proc\/nope is not served here \(modelled: /);
  });

  it('malformed request bytes are INVALID_ARGUMENT naming the method', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]);
    await refused(() => rawCall('/mmsim.v1.HeapService/Malloc', garbage), status.INVALID_ARGUMENT, /grpc\.MALFORMED_REQUEST: the request is not a valid message for \/mmsim\.v1\.HeapService\/Malloc/);
    await refused(() => rawCall('/mmsim.v1.VmaService/Spawn', Buffer.from([0x0a, 0x50, 0x01])), status.INVALID_ARGUMENT, /MALFORMED_REQUEST.*VmaService\/Spawn/);
    // Bytes that do parse (protobuf skips what it does not know) are checked like any request.
    await refused(() => rawCall('/mmsim.v1.HeapService/Malloc', Buffer.from('hello, world')), status.INVALID_ARGUMENT, /edge\.NO_MACHINE: the request names no machine/);
  });

  it('another tenant\'s machine is PERMISSION_DENIED; in its own namespace the name is unknown', async () => {
    const m = /edge\.OTHER_TENANT: machine default\/bad belongs to tenant default, not eve/;
    await refused(() => eve.vma.listTasks({ machine, all: false }), status.PERMISSION_DENIED, m);
    await refused(() => eve.heap.malloc({ target: target(pid), size: 10n }), status.PERMISSION_DENIED, m);
    await refused(() => eve.vma.kill({ machine, pid, signal: '' }), status.PERMISSION_DENIED, m);
    await refused(() => eve.readProc(machine, '/proc/meminfo'), status.PERMISSION_DENIED, m);
    await refused(() => eve.oom.listKills({ machine }), status.PERMISSION_DENIED, m);
    await refused(() => new Promise((res, rej) => eve.raw.log.replay({ source: { $case: 'machine', value: machine }, toSeq: 0n }, (e, r) => (e ? rej(e) : res(r)))), status.PERMISSION_DENIED, /OTHER_TENANT/);
    await refused(() => eve.vma.listTasks({ machine: { tenant: '', machine: 'bad' }, all: false }), status.NOT_FOUND, /no machine bad/);
    expect((await eve.machines.listMachines({})).machines).toEqual([]);
  });

  it('calls the state forbids are FAILED_PRECONDITION', async () => {
    await refused(() => c.machines.createMachine({ machine, profile: 'linux-6.18', ramBytes: 2n ** 27n, swapBytes: 0n, cpus: 2, seed: 3n, sysctls: [] }), status.FAILED_PRECONDITION, /vma\.MACHINE_EXISTS: machine bad exists/);
    await refused(() => c.vma.kill({ machine, pid: 1, signal: '' }), status.FAILED_PRECONDITION, /init \(pid 1\) cannot be killed/);
  });

  it('simulated failures are answered as the real API answers them, and logged', async () => {
    const p = await spawn('sim');
    const nullOf = (r: { result?: { value: bigint; errno: string; signal: string } }) => ({ value: r.result!.value, errno: r.result!.errno, signal: r.result!.signal });
    expect(nullOf(await answered(() => c.heap.malloc({ target: target(p), size: 2n ** 50n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(nullOf(await answered(() => c.heap.malloc({ target: target(p), size: 2n ** 53n - 1n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(nullOf(await answered(() => c.heap.malloc({ target: target(p), size: 2n ** 60n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(nullOf(await answered(() => c.heap.malloc({ target: target(p), size: 2n ** 64n - 1n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(nullOf(await answered(() => c.heap.realloc({ target: target(p), ptr: 0n, size: 2n ** 63n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(nullOf(await answered(() => c.heap.calloc({ target: target(p), nmemb: 2n ** 40n, size: 2n ** 40n })))).toEqual({ value: 0n, errno: 'ENOMEM', signal: '' });
    expect(await answered(() => c.vma.syscall({ machine, pid: p, nr: 'mmap', args: [0n, -4096n, 3n, 0x22n], filePath: '', fileSize: 0n }))).toMatchObject({ result: -12n, errno: 'ENOMEM' });
    expect(await answered(() => c.vma.syscall({ machine, pid: p, nr: 'munmap', args: [1n, 4096n], filePath: '', fileSize: 0n }))).toMatchObject({ result: -22n, errno: 'EINVAL' });
    expect(await answered(() => c.vma.touch({ machine, pid: p, addr: 4096n, length: 1n, write: true }))).toMatchObject({ ok: false, signal: 'SIGSEGV' });
    // The SIGSEGV killed `sim`: it is gone now (a bad call from here on).
    await refused(() => c.heap.malloc({ target: target(p), size: 10n }), status.NOT_FOUND, /NO_SUCH_PID: no process/);
    await refused(() => c.vma.syscall({ machine, pid: p, nr: 'brk', args: [0n], filePath: '', fileSize: 0n }), status.NOT_FOUND, /NO_SUCH_PID/);
    const q = await spawn('wild');
    expect(nullOf(await answered(() => c.heap.free({ target: target(q), ptr: 12345n })))).toMatchObject({ signal: 'SIGSEGV' });
  });
});
