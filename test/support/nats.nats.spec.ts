// The NATS test harness itself: its skip/start/fail decision, and a private server that can be
// stopped, killed and restarted.
import { describe, expect, it } from 'vitest';
import { natsAnswers, resolveNats, startPrivateNatsServer, useNats, type NatsResolveEnv } from './nats.js';

const world = (over: Partial<NatsResolveEnv>): NatsResolveEnv & { cleanups: number; warnings: string[] } => {
  const w = {
    url: '127.0.0.1:4222',
    ci: false,
    answers: async () => false,
    hasNatsServer: () => false,
    startServer: async () => ({ url: '127.0.0.1:9', dispose: async () => undefined }),
    afterAll: () => void w.cleanups++,
    warn: (m: string) => void w.warnings.push(m),
    cleanups: 0,
    warnings: [] as string[],
    ...over,
  };
  return w;
};

describe('resolveNats', () => {
  it('uses a server that answers', async () => {
    expect(await resolveNats(world({ answers: async () => true }))).toEqual({ url: '127.0.0.1:4222', skip: false, reason: 'using NATS at 127.0.0.1:4222' });
  });

  it('starts nats-server when none answers, and stops it after the file', async () => {
    const w = world({ hasNatsServer: () => true });
    expect(await resolveNats(w)).toMatchObject({ url: '127.0.0.1:9', skip: false });
    expect(w.cleanups).toBe(1);
  });

  it('skips with a message when there is no NATS at all', async () => {
    const w = world({});
    expect(await resolveNats(w)).toMatchObject({ url: undefined, skip: true });
    expect(w.warnings[0]).toMatch(/NATS tests skipped/);
  });

  it('fails instead under CI=true', async () => {
    await expect(resolveNats(world({ ci: true }))).rejects.toThrow(/CI=true: this is a failure/);
  });
});

const nats = await useNats();

describe.skipIf(nats.skip)('startPrivateNatsServer', () => {
  it('starts a JetStream server on a free port that can be stopped, killed and restarted', async () => {
    const srv = await startPrivateNatsServer();
    try {
      expect(await natsAnswers(srv.url)).toBe(true);
      await srv.kill();
      expect(await natsAnswers(srv.url, 300)).toBe(false);
      await srv.restart();
      expect(await natsAnswers(srv.url)).toBe(true);
      await srv.stop();
      expect(await natsAnswers(srv.url, 300)).toBe(false);
    } finally {
      await srv.dispose();
    }
  });
});
