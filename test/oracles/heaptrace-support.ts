// Helpers shared by the heaptrace oracle tests and bench/heap-replay.ts: where the traces are,
// reading them (plain or gzipped), and whether C tools can be built here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { findCompiler } from '../../packages/cli/src/commands/heap/c-toolchain.js';

/** The project's own recordings (tools/heaptrace/record-fixtures.sh). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/heaptrace/', import.meta.url));
/** Recordings shipped beside the project; absent on a plain clone. */
export const SHARED_TRACES_DIR = fileURLToPath(new URL('../../../shared/oracles/heaptrace/traces/', import.meta.url));

export interface TraceFile {
  readonly name: string;
  readonly path: string;
}

export function listTraces(dir: string): TraceFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ht(\.gz)?$/.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.ht(\.gz)?$/, ''), path: join(dir, f) }));
}

/** The text of a trace, gunzipped when it starts with the gzip magic bytes. */
export function readTraceText(path: string): string {
  const bytes = readFileSync(path);
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : bytes).toString('utf8');
}

export function hasCompiler(): boolean {
  try {
    findCompiler();
    return true;
  } catch {
    return false;
  }
}

/** The fields of a trace's "mallinfo2 k=v ..." line. */
export function mallinfo2Of(text: string): Record<string, number> | undefined {
  const line = text.split('\n').find((l) => l.startsWith('mallinfo2 '));
  if (!line) return undefined;
  const out: Record<string, number> = {};
  for (const kv of line.split(' ').slice(1)) {
    const [k, v] = kv.split('=');
    out[k] = Number(v);
  }
  return out;
}
