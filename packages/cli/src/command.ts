import { parseArgs, UsageError, type OptionSpec, type ParsedArgs, type PositionalSpec } from './args.js';
import type { Io } from './io.js';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options?: readonly OptionSpec[];
  readonly positionals?: readonly PositionalSpec[];
  readonly examples?: readonly string[];
  readonly subcommands?: readonly Command[];
  run?(args: ParsedArgs, io: Io): Promise<number>;
}

export function helpText(path: string, c: Command): string {
  const lines: string[] = [];
  const cmd = path ? `mmsim ${path}` : 'mmsim';
  const pos = (c.positionals ?? []).map((p) => {
    const n = p.name.toUpperCase() + (p.variadic ? '...' : '');
    return p.required ? n : `[${n}]`;
  });
  if (c.subcommands?.length) {
    lines.push(`usage: ${cmd} <command> [options]`, '', c.summary, '');
    if (c.description) lines.push(c.description, '');
    lines.push('commands:');
    const w = Math.max(...c.subcommands.map((s) => s.name.length));
    for (const s of c.subcommands) lines.push(`  ${s.name.padEnd(w)}  ${s.summary}`);
    lines.push('', `Run \`${cmd} <command> --help\` for a command's options.`);
    return lines.join('\n') + '\n';
  }
  lines.push(`usage: ${cmd}${(c.options ?? []).length ? ' [options]' : ''}${pos.length ? ' ' + pos.join(' ') : ''}`, '', c.summary);
  if (c.description) lines.push('', c.description);
  if (c.positionals?.length) {
    lines.push('', 'arguments:');
    for (const p of c.positionals) lines.push(`  ${p.name.toUpperCase().padEnd(18)} ${p.description}`);
  }
  const opts = [...(c.options ?? []), { name: 'help', short: 'h', type: 'boolean', description: 'show this help' } as OptionSpec];
  lines.push('', 'options:');
  for (const o of opts) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'boolean' ? '' : ` ${o.valueName ?? o.type.toUpperCase()}`}`;
    const def = o.default !== undefined && o.type !== 'boolean' ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(34)} ${o.description}${def}`);
  }
  if (c.examples?.length) {
    lines.push('', 'examples:');
    for (const e of c.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}

/** Finds the command named by argv, prints help or runs it. Returns the exit code. */
export async function dispatch(root: Command, argv: readonly string[], io: Io): Promise<number> {
  let c = root;
  const path: string[] = [];
  let i = 0;
  while (c.subcommands?.length && i < argv.length && !argv[i].startsWith('-')) {
    const next = c.subcommands.find((s) => s.name === argv[i]);
    if (!next) {
      const where = path.length ? `mmsim ${path.join(' ')}` : 'mmsim';
      io.err(`${where}: unknown command "${argv[i]}" (see \`${where} --help\`)\n`);
      return 2;
    }
    c = next;
    path.push(next.name);
    i++;
  }
  const rest = argv.slice(i);
  const dd = rest.indexOf('--');
  const before = dd >= 0 ? rest.slice(0, dd) : rest;
  if (before.includes('--help') || before.includes('-h')) {
    io.out(helpText(path.join(' '), c));
    return 0;
  }
  if (!c.run) {
    if (rest.length) {
      io.err(`mmsim ${path.join(' ')}: unknown option ${rest[0]} (see \`mmsim ${path.join(' ')} --help\`)\n`.replace('mmsim :', 'mmsim:'));
      return 2;
    }
    io.out(helpText(path.join(' '), c));
    return path.length ? 2 : 0;
  }
  let args: ParsedArgs;
  try {
    args = parseArgs(path.join(' '), rest, c.options ?? [], c.positionals ?? []);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message + '\n');
      return 2;
    }
    throw e;
  }
  try {
    return await c.run(args, io);
  } catch (e) {
    // A wrong argument found while running (a bad --listen, --endpoint with --endpoints...) is
    // a usage error like one found by the parser: exit 2, with the command's name.
    if (!(e instanceof UsageError)) throw e;
    const name = `mmsim ${path.join(' ')}`;
    io.err(`${e.message.startsWith('mmsim ') ? e.message : `${name}: ${e.message}`}\n`);
    return 2;
  }
}
