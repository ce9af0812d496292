// Fails when packages/proto is stale: regenerates from proto/ into a temporary directory
// (tools/gen-proto.mjs --out) and compares every generated file and the descriptor set byte for
// byte with the package.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const pkg = join(root, 'packages', 'proto');

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}
const generated = (tree: string) =>
  [...files(join(tree, 'src', 'gen')), join(tree, 'src', 'index.ts'), join(tree, 'descriptor.binpb')].map((f) => relative(tree, f));

let out: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'mmsim-gen-'));
  const r = spawnSync(process.execPath, [join(root, 'tools', 'gen-proto.mjs'), '--out', out], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('packages/proto', () => {
  it('matches what `npm run gen` makes from proto/ (else run `npm run gen`)', () => {
    expect(generated(pkg)).toEqual(generated(out));
    const stale = generated(out).filter((f) => !readFileSync(join(out, f)).equals(readFileSync(join(pkg, f))));
    expect(stale, 'stale generated files: run `npm run gen`').toEqual([]);
  });

  it('has one module per proto file, the index and the descriptor set', () => {
    const protos = readdirSync(join(root, 'proto', 'mmsim', 'v1')).filter((f) => f.endsWith('.proto')).sort();
    const modules = readdirSync(join(out, 'src', 'gen', 'mmsim', 'v1')).sort();
    expect(modules).toEqual(protos.map((p) => p.replace(/\.proto$/, '.ts')));
    const index = readFileSync(join(out, 'src', 'index.ts'), 'utf8');
    for (const m of modules) expect(index).toContain(`./gen/mmsim/v1/${m.replace(/\.ts$/, '.js')}`);
    // A FileDescriptorSet whose first file entry is a length-delimited field 1 (tag 0x0a).
    expect(readFileSync(join(out, 'descriptor.binpb'))[0]).toBe(0x0a);
  });
});
