// Building the C tools of tools/heaptrace/ with the system compiler, once per source version.
//
// The recorder must run against the machine's own glibc, so it is compiled here rather than
// shipped. Builds are cached per user under $XDG_CACHE_HOME/mmsim/heaptrace (or
// ~/.cache/mmsim/heaptrace), in a directory named by a hash of the source and the flags: an
// edited recorder.c gets a new build, an unchanged one is reused (no compiler needed then).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tools/heaptrace/ of this checkout. */
export const HEAPTRACE_TOOLS_DIR = fileURLToPath(new URL('../../../../../tools/heaptrace/', import.meta.url));

export class NoCompilerError extends Error {
  override readonly name = 'NoCompilerError';
  constructor(readonly tried: readonly string[]) {
    super(
      `no C compiler found (tried ${tried.join(', ')}). The heap trace recorder is a small C library ` +
        'built on first use against this machine\'s glibc: install one (Debian: apt-get install gcc) or name it with --cc / $CC.',
    );
  }
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a command name on PATH (or checks a path), as a shell would. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** The first of: the given compiler, $CC, cc, gcc, clang that exists. Throws NoCompilerError. */
export function findCompiler(preferred?: string, env: NodeJS.ProcessEnv = process.env): string {
  const tried = [preferred, env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => Boolean(c));
  for (const c of tried) {
    const p = which(c, env);
    if (p) return p;
  }
  throw new NoCompilerError(tried);
}

/** The per-user cache directory for builds. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'mmsim', 'heaptrace');
  const home = env.HOME ?? homedir();
  if (home) return join(home, '.cache', 'mmsim', 'heaptrace');
  return join(tmpdir(), `mmsim-heaptrace-${process.getuid?.() ?? 'user'}`);
}

export interface CTool {
  /** The source file, relative to tools/heaptrace/. */
  readonly source: string;
  /** The file name of the build. */
  readonly output: string;
  readonly flags: readonly string[];
}

export const RECORDER: CTool = {
  source: 'recorder.c',
  output: 'libmmsim-heaptrace.so',
  flags: ['-O2', '-Wall', '-shared', '-fPIC', '-fvisibility=hidden'],
};
// -O0: the compiler must not fold or drop any malloc/free pair of the program.
export const HEAPPROG: CTool = { source: 'heapprog.c', output: 'heapprog', flags: ['-O0', '-Wall'] };
export const NATIVE_REPLAY: CTool = { source: 'native-replay.c', output: 'native-replay', flags: ['-O2', '-Wall'] };
export const FRAG: CTool = { source: 'programs/frag.c', output: 'frag', flags: ['-O0', '-Wall'] };
export const SELFREPORT: CTool = { source: 'programs/selfreport.c', output: 'selfreport', flags: ['-O0', '-Wall', '-pthread'] };
export const THREADS: CTool = { source: 'programs/threads.c', output: 'threads', flags: ['-O0', '-Wall', '-pthread'] };

export interface BuildOptions {
  readonly cc?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the cached builds live (default cacheDir()). */
  readonly cache?: string;
}

/**
 * Builds `tool` unless a build of the same source and flags is cached (by any compiler: the
 * result runs against this machine's glibc either way); returns its path.
 */
export function buildCTool(tool: CTool, options: BuildOptions = {}): string {
  const env = options.env ?? process.env;
  const sourcePath = join(HEAPTRACE_TOOLS_DIR, tool.source);
  const source = readFileSync(sourcePath);
  const key = createHash('sha256').update(source).update('\0').update(tool.flags.join(' ')).digest('hex').slice(0, 16);
  const dir = join(options.cache ?? cacheDir(env), key);
  const out = join(dir, tool.output);
  if (existsSync(out)) return out;
  const cc = findCompiler(options.cc, env);
  mkdirSync(dir, { recursive: true });
  // Build beside the final name, then rename: a concurrent build never sees half a file.
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, [...tool.flags, '-o', partial, sourcePath], { encoding: 'utf8', env });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    throw new BuildError(`${cc} could not build ${tool.source}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  renameSync(partial, out);
  return out;
}

/** `setarch <arch> -R`, which turns address-space randomization off for a command, when it works here. */
export function noAslrPrefix(env: NodeJS.ProcessEnv = process.env): string[] {
  const setarch = which('setarch', env);
  if (!setarch) return [];
  const arch = spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();
  if (!arch) return [];
  const probe = spawnSync(setarch, [arch, '-R', 'true']);
  return probe.status === 0 ? [setarch, arch, '-R'] : [];
}
