import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, InterceptingCall, makeGenericClientConstructor, Metadata, status, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import { FileEventLog, replayEntry, toEnvelopeEvent, type MachineRef } from '@mmsim/eventlog';
import { Rejection } from '@mmsim/kernel';
import { LogServiceClient, LogServiceService, type LogServiceServer, type ReplayRequest, type ReplayResponse } from '@mmsim/proto';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lower, lowerCodec, verifyLower, writeLowerLog } from '../../../test/support/toy-aggregates.js';
import { unary, serverStream } from './handlers.js';
import { logService } from './log-service.js';
import { startGrpcServer, type GrpcServerHandle } from './server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const m: MachineRef = { tenant: 'acme', machine: 'box' };
const registry = { vma: replayEntry({ aggregate: lower, codec: lowerCodec, verify: verifyLower }) };
const quiet = { error: () => undefined };

let dir: string;
let log: FileEventLog;
let server: GrpcServerHandle;
let client: LogServiceClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mmsim-grpc-'));
  log = await FileEventLog.open(join(dir, 'log'));
  await writeLowerLog(log, m, [3, 4, 5]);
  server = await startGrpcServer({ listen: '127.0.0.1:0', services: [logService({ log, registry, exportDir: join(dir, 'exports'), logger: quiet })] });
  client = new LogServiceClient(server.address, credentials.createInsecure(), { interceptors: [asTenant('acme')] });
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `mmsim-tenant: <tenant>` with every call: a machine's log is its tenant's. */
function asTenant(tenant: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('mmsim-tenant', tenant);
        next(metadata, listener);
      },
    });
}

const replay = (c: LogServiceClient, req: ReplayRequest) =>
  new Promise<ReplayResponse>((resolve, reject) => c.replay(req, (e, r) => (e ? reject(e) : resolve(r))));

function collect<T>(stream: NodeJS.ReadableStream): Promise<T[]> {
  const out: T[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (d: T) => out.push(d));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

describe('startGrpcServer + logService', () => {
  it('binds a free port and reports the address', () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves reflection: buf curl lists the registered services and calls one with no schema given', async () => {
    // Asynchronously: the server runs in this process.
    const buf = (...args: string[]) => promisify(execFile)(join(root, 'node_modules', '.bin', 'buf'), ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], { encoding: 'utf8' });
    const list = await buf('--list-services', `http://${server.address}`);
    expect(list.stdout.trim().split('\n')).toEqual(['mmsim.v1.LogService']);
    const r = await buf('-H', 'mmsim-tenant: acme', '-d', '{"machine":{"tenant":"acme","machine":"box"}}', `http://${server.address}/mmsim.v1.LogService/Replay`);
    expect(JSON.parse(r.stdout)).toMatchObject({ envelopes: '3', lastSeq: '3' });
  });

  it('answers the standard health check', async () => {
    const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
    const h = new Health(server.address, credentials.createInsecure()) as unknown as { check: (r: object, cb: (e: unknown, r: { status: string }) => void) => void; close(): void };
    const r = await new Promise<{ status: string }>((res, rej) => h.check({ service: '' }, (e, x) => (e ? rej(e) : res(x))));
    const s = await new Promise<{ status: string }>((res, rej) => h.check({ service: 'mmsim.v1.LogService' }, (e, x) => (e ? rej(e) : res(x))));
    h.close();
    expect([r.status, s.status]).toEqual(['SERVING', 'SERVING']);
  });

  it('replays a machine of the live log', async () => {
    const r = await replay(client, { source: { $case: 'machine', value: m }, toSeq: 0n });
    expect(r).toMatchObject({ machine: m, envelopes: 3n, lastSeq: 3n, divergence: undefined });
    // lower after grants of 3, 4, 5 from 100: next 112, 3 grants
    expect(r.aggregates).toEqual([{ service: 'vma', lastServiceSeq: 3n, stateHash: lower.stateHash({ next: 112, grants: 3 }), replayed: true }]);
  });

  it('exports to a file in the export directory, streaming the same bytes, and replays that file', async () => {
    const chunks = await collect<{ chunk: Uint8Array; records: bigint; lastSeq: bigint }>(client.export({ machine: m, path: 'a/box.mmlog', toSeq: 0n }));
    const streamed = Buffer.concat(chunks.map((c) => c.chunk));
    expect(streamed.equals(readFileSync(join(dir, 'exports', 'a', 'box.mmlog')))).toBe(true);
    expect(streamed.equals(readFileSync(join(dir, 'log', 'acme', 'box.mmlog')))).toBe(true);
    expect(chunks[chunks.length - 1]).toMatchObject({ records: 3n, lastSeq: 3n });
    const r = await replay(client, { source: { $case: 'path', value: 'a/box.mmlog' }, toSeq: 2n });
    expect(r).toMatchObject({ envelopes: 2n, lastSeq: 2n, divergence: undefined });
  });

  it('refuses paths outside the export directory, unknown machines and bad names, with their status', async () => {
    const outside = await collect(client.export({ machine: m, path: '../../etc/x', toSeq: 0n })).catch((e: ServiceError) => e);
    expect(outside).toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('log.PATH_OUTSIDE_EXPORT_DIR') });
    expect((outside as ServiceError).metadata.get('mmsim-rejection-code')).toEqual(['log.PATH_OUTSIDE_EXPORT_DIR']);
    await expect(replay(client, { source: { $case: 'machine', value: { tenant: 'acme', machine: 'nope' } }, toSeq: 0n })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(replay(client, { source: { $case: 'machine', value: { tenant: 'a.b', machine: 'x' } }, toSeq: 0n })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('keeps a machine\'s log to its tenant: another tenant gets PERMISSION_DENIED, an empty tenant means the caller\'s', async () => {
    const eve = new LogServiceClient(server.address, credentials.createInsecure(), { interceptors: [asTenant('eve')] });
    try {
      await expect(replay(eve, { source: { $case: 'machine', value: m }, toSeq: 0n })).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('edge.OTHER_TENANT') });
      const tail = eve.tail({ machine: m, fromSeq: 1n });
      tail.on('data', () => undefined);
      await expect(new Promise((resolve) => tail.on('error', resolve))).resolves.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(collect(eve.export({ machine: m, path: '', toSeq: 0n }))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(replay(eve, { source: { $case: 'machine', value: { tenant: '', machine: 'box' } }, toSeq: 0n })).rejects.toMatchObject({ code: status.NOT_FOUND });
      expect(await replay(client, { source: { $case: 'machine', value: { tenant: '', machine: 'box' } }, toSeq: 0n })).toMatchObject({ machine: m });
    } finally {
      eve.close();
    }
  });

  it('tails from a seq, then live, until the client cancels', async () => {
    const stream = client.tail({ machine: m, fromSeq: 2n });
    const seen: bigint[] = [];
    const fourth = new Promise<void>((resolve) =>
      stream.on('data', (d: { envelope: { seq: bigint } }) => {
        seen.push(d.envelope.seq);
        if (seen.length === 3) resolve();
      }),
    );
    const ended = new Promise<unknown>((resolve) => stream.on('error', resolve));
    await new Promise((r) => setTimeout(r, 50));
    const pos = { seq: 3, streamSeq: 3, serviceSeqs: { vma: 3 } };
    await log.append({ machine: m, service: 'vma', events: [{ event: toEnvelopeEvent(lowerCodec, { type: 'Granted', first: 112, n: 1 }), stateHash: lower.stateHash({ next: 113, grants: 4 }), simTimeNs: 0n }], cause: { requestId: '', parentSeq: 0 }, modelVersion: 1, expected: pos });
    await fourth;
    expect(seen).toEqual([2n, 3n, 4n]);
    stream.cancel();
    expect(await ended).toMatchObject({ code: status.CANCELLED });
  });
});

describe('unary() and serverStream()', () => {
  it('send each thrown error with its status, and values as replies', async () => {
    const thrown: unknown[] = [
      new Rejection('vma.NO_SUCH_PID', 'not-found', 'no pid 7'),
      { name: 'Rejection', code: 'heap.BAD_SIZE', kind: 'invalid', message: 'crossed the bus' },
      Object.assign(new Error('stale'), { name: 'LogFencedError' }),
      new RangeError('bug'),
    ];
    let i = 0;
    const impl: LogServiceServer = {
      replay: unary(() => {
        throw thrown[i++];
      }, { logger: quiet }),
      tail: serverStream(async function* () {
        yield { envelope: undefined };
        throw new Rejection('log.GONE', 'precondition', 'gone');
      }, { logger: quiet }),
      export: serverStream(async function* () {}, { logger: quiet }),
    };
    const s = await startGrpcServer({ listen: '127.0.0.1:0', services: [{ definition: LogServiceService, implementation: impl }], reflection: false, health: false });
    const c = new LogServiceClient(s.address, credentials.createInsecure());
    try {
      const codes: (number | undefined)[] = [];
      for (let k = 0; k < thrown.length; k++) {
        const e = await replay(c, { source: undefined, toSeq: 0n }).catch((x: ServiceError) => x);
        codes.push((e as ServiceError).code);
      }
      expect(codes).toEqual([status.NOT_FOUND, status.INVALID_ARGUMENT, status.ABORTED, status.INTERNAL]);
      const tail = c.tail({ machine: m, fromSeq: 0n }, new Metadata());
      const got: unknown[] = [];
      tail.on('data', (d) => got.push(d));
      const err = await new Promise<ServiceError>((resolve) => tail.on('error', resolve));
      expect(got).toHaveLength(1);
      expect(err).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'log.GONE: gone' });
      expect(await collect(c.export({ machine: m, path: '', toSeq: 0n }))).toEqual([]);
    } finally {
      c.close();
      await s.stop(500);
    }
  });

  it('answers bytes that are not the method\'s message with INVALID_ARGUMENT, for unary and streaming methods (grpc-js alone says INTERNAL)', async () => {
    const raw = new (makeGenericClientConstructor({}, 'raw'))(server.address, credentials.createInsecure());
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const ident = (b: Buffer) => b;
    try {
      const unaryErr = await new Promise<ServiceError>((resolve) =>
        raw.makeUnaryRequest('/mmsim.v1.LogService/Replay', ident, ident, garbage, new Metadata(), (e) => resolve(e!)),
      );
      expect(unaryErr).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^grpc\.MALFORMED_REQUEST: the request is not a valid message for \/mmsim\.v1\.LogService\/Replay \(/) });
      const stream = raw.makeServerStreamRequest('/mmsim.v1.LogService/Tail', ident, ident, garbage, new Metadata());
      stream.on('data', () => undefined);
      const streamErr = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
      expect(streamErr).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/LogService\/Tail/) });
    } finally {
      raw.close();
    }
  });
});
