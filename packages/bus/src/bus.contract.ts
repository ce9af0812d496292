// The behaviour every Bus implementation must have, as a vitest suite. Each implementation's
// spec calls busContract() with a factory: `server` serves, `client` calls (the same bus
// in-process; two connections over NATS).
import { isRejection, Rejection } from '@mmsim/kernel';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from './bus.js';
import { rpcSubject, rpcWildcard } from './subjects.js';

export interface BusPair {
  readonly server: Bus;
  readonly client: Bus;
  close(): Promise<void>;
}

let n = 0;
/** A service name no other test (or test run on a shared server) uses. */
const svc = () => `svc${process.pid}x${Date.now().toString(36)}x${++n}`;

export function busContract(name: string, make: () => Promise<BusPair>): void {
  describe(`${name}: the Bus contract`, () => {
    let pair: BusPair | undefined;
    const open = async () => (pair = await make());
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });

    it('replies to a request with the handler value, bigint included', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'echo');
      await server.serve(s, (p) => ({ got: p, big: 2n ** 64n + 1n }));
      expect(await client.request(s, { a: [1, 'x', null], t: 5n })).toEqual({ got: { a: [1, 'x', null], t: 5n }, big: 18446744073709551617n });
    });

    it('rejects with NoRespondersError when nobody serves the subject', async () => {
      const { client } = await open();
      await expect(client.request(rpcSubject(svc(), 'nobody'), {})).rejects.toMatchObject({ name: 'NoRespondersError' });
    });

    it('rejects with RequestTimeoutError when the handler does not answer in time', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'slow');
      await server.serve(s, () => new Promise(() => {}));
      await expect(client.request(s, {}, { timeoutMs: 150 })).rejects.toMatchObject({ name: 'RequestTimeoutError', timeoutMs: 150 });
    });

    it('carries a Rejection across as data: same code, kind and message', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'reject');
      await server.serve(s, () => {
        throw new Rejection('vma.NO_SUCH_PID', 'not-found', 'no pid 42');
      });
      const e = await client.request(s, {}).catch((x: unknown) => x);
      expect(isRejection(e)).toBe(true);
      expect(e).toMatchObject({ code: 'vma.NO_SUCH_PID', kind: 'not-found', message: 'no pid 42' });
    });

    it('turns any other handler error into a RemoteError that keeps its name', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'boom');
      class LogFencedError extends Error {
        override readonly name = 'LogFencedError';
      }
      await server.serve(s, async () => {
        throw new LogFencedError('fenced');
      });
      const e = await client.request(s, {}).catch((x: unknown) => x);
      expect(isRejection(e)).toBe(false);
      expect(e).toMatchObject({ name: 'RemoteError', remoteName: 'LogFencedError' });
    });

    it('serves a wildcard and tells the handler the subject', async () => {
      const { server, client } = await open();
      const service = svc();
      await server.serve(rpcWildcard(service), (_p, ctx) => ctx.subject);
      expect(await client.request(rpcSubject(service, 'malloc'), {})).toBe(rpcSubject(service, 'malloc'));
      expect(await client.request(rpcSubject(service, 'free'), {})).toBe(rpcSubject(service, 'free'));
    });

    it('gives each request to one member of a queue group', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'q');
      const seen = [0, 0];
      await server.serve(s, () => ++seen[0], { queue: 'workers' });
      await server.serve(s, () => ++seen[1], { queue: 'workers' });
      for (let i = 0; i < 20; i++) await client.request(s, i);
      expect(seen[0] + seen[1]).toBe(20);
    });

    it('publishes to every subscriber, and to one per queue group', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'news');
      const got: string[] = [];
      await server.subscribe(s, (p) => void got.push(`a:${String(p)}`));
      await server.subscribe(s, (p) => void got.push(`b:${String(p)}`));
      await server.subscribe(s, (p) => void got.push(`q:${String(p)}`), { queue: 'g' });
      await server.subscribe(s, (p) => void got.push(`q:${String(p)}`), { queue: 'g' });
      client.publish(s, 'x');
      await client.flush();
      for (let i = 0; i < 50 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.sort()).toEqual(['a:x', 'b:x', 'q:x']);
    });

    it('stops serving after stop()', async () => {
      const { server, client } = await open();
      const s = rpcSubject(svc(), 'stop');
      const sub = await server.serve(s, () => 1);
      expect(await client.request(s, {})).toBe(1);
      await sub.stop();
      await server.flush();
      await expect(client.request(s, {}, { timeoutMs: 500 })).rejects.toMatchObject({ name: 'NoRespondersError' });
    });

    it('refuses requests after close()', async () => {
      const { client } = await open();
      await client.close();
      await expect(client.request(rpcSubject(svc(), 'x'), {})).rejects.toMatchObject({ name: 'BusClosedError' });
    });
  });
}
