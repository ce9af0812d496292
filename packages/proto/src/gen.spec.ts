// Fails when packages/proto is stale: regenerates from proto/ into a temporary directory and
// compares every generated file and the descriptor set byte for byte (tools/gen-proto.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const gen = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'tools', 'gen-proto.mjs'), ...args], { cwd: root, encoding: 'utf8' });

describe('packages/proto', () => {
  it('matches what `npm run gen` makes from proto/ (else run `npm run gen`)', () => {
    const r = gen('--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('generates one module per proto file, the index and the descriptor set', () => {
    const out = mkdtempSync(join(tmpdir(), 'mmsim-gen-'));
    try {
      expect(gen('--out', out).status).toBe(0);
      const protos = readdirSync(join(root, 'proto', 'mmsim', 'v1')).filter((f) => f.endsWith('.proto')).sort();
      const modules = readdirSync(join(out, 'src', 'gen', 'mmsim', 'v1')).sort();
      expect(modules).toEqual(protos.map((p) => p.replace(/\.proto$/, '.ts')));
      const index = readFileSync(join(out, 'src', 'index.ts'), 'utf8');
      for (const m of modules) expect(index).toContain(`./gen/mmsim/v1/${m.replace(/\.ts$/, '.js')}`);
      // A FileDescriptorSet whose first file entry is a length-delimited field 1 (tag 0x0a).
      expect(readFileSync(join(out, 'descriptor.binpb'))[0]).toBe(0x0a);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
