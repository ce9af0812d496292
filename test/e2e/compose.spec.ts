// docker-compose.yml runs the distributed mode: NATS with JetStream and the four services. Its
// commands must be what `mmsim serve` accepts, on the ports the CLI uses by default, against a
// NATS new enough and with JetStream on. Read with a small YAML reader (no dependency).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../packages/cli/src/args.js';
import { checkListen, serve, SERVICE_PORTS } from '../../packages/cli/src/commands/serve.js';
import { parseYaml, type Yaml } from './support/mini-yaml.js';

const ROOT = new URL('../../', import.meta.url);
const compose = parseYaml(readFileSync(new URL('docker-compose.yml', ROOT), 'utf8')) as { services: Record<string, Record<string, Yaml>> };
const SERVICES = ['frames', 'vma', 'heap', 'oom'] as const;
const list = (y: Yaml | undefined): string[] => (Array.isArray(y) ? y.map((x) => String(x)) : []);

describe('docker-compose.yml', () => {
  it('reads as the YAML subset, with nats and the four services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['frames', 'heap', 'nats', 'oom', 'vma']);
  });

  it('runs NATS 2.10 or later with JetStream on (the services need it; the brief allows a newer server here)', () => {
    const nats = compose.services.nats;
    const m = /^nats:(\d+)\.(\d+)(?:\.(\d+))?(?:-[\w.-]+)?$/.exec(String(nats.image));
    expect(m, `image ${String(nats.image)} names a version`).not.toBeNull();
    const [major, minor] = [Number(m![1]), Number(m![2])];
    expect(major > 2 || (major === 2 && minor >= 10), `nats ${major}.${minor}`).toBe(true);
    const args = list(nats.command);
    expect(args.includes('-js') || args.includes('--jetstream')).toBe(true);
    // JetStream keeps its store in a volume, so the log survives `docker compose down`/`up`.
    const sd = args.indexOf('-sd');
    expect(sd).toBeGreaterThanOrEqual(0);
    expect(list(nats.volumes).some((v) => v.endsWith(`:${args[sd + 1]}`))).toBe(true);
    expect(list(nats.ports)).toContain('4222:4222');
  });

  it.each(SERVICES)('%s: a valid `mmsim serve` of that service, on the CLI\'s default port, against the nats service', (name) => {
    const svc = compose.services[name];
    expect(svc.build).toBe('.');
    const dockerfile = readFileSync(new URL('Dockerfile', ROOT), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "packages\/cli\/bin\/mmsim\.js"\]/);
    const argv = list(svc.command);
    expect(argv[0]).toBe('serve');
    const parsed = parseArgs('serve', argv.slice(1), serve.options ?? [], serve.positionals ?? []);
    expect(parsed.options.service).toBe(name);
    const listen = checkListen(String(parsed.options.listen));
    const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
    expect(port).toBe(SERVICE_PORTS[name]);
    expect(listen.startsWith('0.0.0.0:'), 'listens on every interface inside the container').toBe(true);
    expect(list(svc.ports)).toEqual([`${port}:${port}`]);
    const nats = new URL(String(parsed.options.nats));
    expect(nats.protocol).toBe('nats:');
    expect(nats.hostname).toBe('nats');
    expect(nats.port).toBe('4222');
    expect(list(svc.depends_on)).toContain('nats');
  });

  it('the CLI\'s serve accepts exactly those flags (--help lists them)', () => {
    const names = (serve.options ?? []).map((o) => o.name);
    for (const f of ['service', 'nats', 'listen']) expect(names).toContain(f);
  });
});

describe('mini YAML reader', () => {
  it('reads mappings, sequences, flow sequences, quotes and comments', () => {
    expect(parseYaml('a:\n  b: "x # y" # c\n  c: [1, "two", \'3\']\n  d:\n    - e\n    - "f"\n')).toEqual({ a: { b: 'x # y', c: ['1', 'two', '3'], d: ['e', 'f'] } });
  });
  it('refuses what it does not know', () => {
    expect(() => parseYaml('a: &anchor 1\n')).toThrow(/outside the subset/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/duplicate key/);
    expect(() => parseYaml('a:\n\tb: 1\n')).toThrow(/tabs/);
  });
});
