// mmsim heap record -- CMD ARGS: runs a command under the heap trace recorder
// (tools/heaptrace/recorder.c, built with the system C compiler on first use) and writes the
// heaptrace v1 of its malloc-family calls.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { OptionSpec, ParsedArgs, PositionalSpec } from '../../args.js';
import type { Io } from '../../io.js';
import { buildCTool, noAslrPrefix, NoCompilerError, RECORDER, BuildError } from './c-toolchain.js';

export const HEAP_RECORD_OPTIONS: readonly OptionSpec[] = [
  { name: 'out', short: 'o', type: 'string', valueName: 'FILE', description: 'where the trace goes; a name ending in .gz is gzipped (default: <command name>.ht)' },
  { name: 'cc', type: 'string', valueName: 'COMPILER', description: 'the C compiler that builds the recorder (default: $CC, then cc, gcc, clang)' },
  { name: 'children', type: 'boolean', description: 'also keep the traces of child processes that exec, as <out>.<pid>.ht' },
  { name: 'aslr', type: 'boolean', description: 'leave address-space randomization on (by default it is off for the command, so that addresses repeat run to run)' },
];
export const HEAP_RECORD_POSITIONALS: readonly PositionalSpec[] = [
  { name: 'command', description: 'the command to run and its arguments (put them after --)', variadic: true },
];
export const HEAP_RECORD_SUMMARY = 'run a command under the heap trace recorder and write its heaptrace v1';
export const HEAP_RECORD_DESCRIPTION = [
  'Builds tools/heaptrace/recorder.c with the system C compiler (cached under ~/.cache/mmsim/heaptrace,',
  'keyed by the source), runs the command with it in LD_PRELOAD, and writes one line per malloc, free,',
  'calloc, realloc, memalign, posix_memalign, valloc, pvalloc, mallopt and malloc_trim call, with the',
  'address glibc returned, then mallinfo2 and the final program break. Statically linked and setuid',
  'programs cannot be traced (the dynamic linker ignores LD_PRELOAD for them).',
].join('\n');

/** Test seams; main() passes nothing. */
export interface HeapRecordContext {
  readonly env?: NodeJS.ProcessEnv;
  /** stdio of the traced command (default: inherited). */
  readonly stdio?: 'inherit' | 'ignore';
}

interface TraceSummary {
  readonly calls: number;
  readonly threads: number;
  readonly complete: boolean;
}

function summarize(text: string): TraceSummary {
  let calls = 0;
  let complete = false;
  const tids = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('heap_base ') || line.startsWith('final_brk ')) continue;
    if (line.startsWith('mallinfo2 ')) {
      complete = true;
      continue;
    }
    calls++;
    const m = /^t(\d+) /.exec(line);
    if (m) tids.add(m[1]);
  }
  return { calls, threads: 1 + tids.size, complete };
}

function writeTrace(path: string, text: string): void {
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(text) : text);
}

function runTraced(argv: readonly string[], env: NodeJS.ProcessEnv, stdio: 'inherit' | 'ignore'): Promise<{ pid: number; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const pid = child.pid ?? -1;
      resolve({ pid, code: code ?? 128 + (signal ? signalNumber(signal) : 0) });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return table[signal] ?? 0;
}

/**
 * `mmsim heap record [--out FILE] [--cc CC] [--children] [--aslr] -- CMD ARGS...`
 * Returns the traced command's exit status (128+n if a signal ended it), or 1 if no trace
 * could be made, 2 for a usage error.
 */
export async function heapRecord(args: ParsedArgs, io: Io, ctx: HeapRecordContext = {}): Promise<number> {
  const env = ctx.env ?? process.env;
  const positional = args.positionals.command;
  const command = args.rest.length > 0 ? [...args.rest] : Array.isArray(positional) ? positional : [];
  if (command.length === 0) {
    io.err('mmsim heap record: no command given (usage: mmsim heap record [--out FILE] -- CMD ARGS...)\n');
    return 2;
  }
  const outOpt = args.options.out;
  const out = typeof outOpt === 'string' && outOpt !== '' ? outOpt : `${basename(command[0])}.ht`;
  const ccOpt = args.options.cc;

  let library: string;
  try {
    library = buildCTool(RECORDER, { cc: typeof ccOpt === 'string' ? ccOpt : undefined, env });
  } catch (e) {
    if (e instanceof NoCompilerError || e instanceof BuildError) {
      io.err(`mmsim heap record: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const dir = mkdtempSync(join(tmpdir(), 'mmsim-heap-record-'));
  try {
    const prefix = args.options.aslr === true ? [] : noAslrPrefix(env);
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      MMSIM_HEAPTRACE_OUT: join(dir, 'trace-%p.ht'),
      LD_PRELOAD: env.LD_PRELOAD ? `${library} ${env.LD_PRELOAD}` : library,
    };
    let result: { pid: number; code: number };
    try {
      result = await runTraced([...prefix, ...command], childEnv, ctx.stdio ?? 'inherit');
    } catch (e) {
      io.err(`mmsim heap record: cannot run ${command[0]}: ${(e as Error).message}\n`);
      return 1;
    }
    const files = readdirSync(dir).filter((f) => /^trace-\d+\.ht$/.test(f));
    const mainFile = `trace-${result.pid}.ht`;
    if (!files.includes(mainFile)) {
      io.err(
        `mmsim heap record: ${command[0]} wrote no trace. It may be statically linked or setuid ` +
          '(LD_PRELOAD is ignored then), or it exited before its first heap call.\n',
      );
      return result.code === 0 ? 1 : result.code;
    }
    const text = readFileSync(join(dir, mainFile), 'utf8');
    writeTrace(out, text);
    const s = summarize(text);
    const notes: string[] = [];
    if (!s.complete) notes.push('no mallinfo2 line: the process was killed or exec\'d before exit, so the trace is partial');
    const children = files.filter((f) => f !== mainFile);
    if (children.length > 0) {
      if (args.options.children === true) {
        const stem = out.replace(/\.ht(\.gz)?$/, '');
        for (const f of children) writeTrace(`${stem}.${f.slice('trace-'.length)}${out.endsWith('.gz') ? '.gz' : ''}`, readFileSync(join(dir, f), 'utf8'));
        notes.push(`${children.length} child process trace(s) written beside it`);
      } else {
        notes.push(`${children.length} child process trace(s) not kept (--children keeps them)`);
      }
    }
    io.err(
      `mmsim heap record: ${s.calls} calls from ${s.threads} thread(s) -> ${out}` +
        (notes.length ? `\n  ${notes.join('\n  ')}` : '') + '\n',
    );
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
