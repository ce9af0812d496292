import { parseNumber } from '@mmsim/sdk';

// A small, strict argument parser: every command declares its options and positionals, and
// anything else is an error that names the command and points at its --help.

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: OptionType;
  readonly description: string;
  readonly valueName?: string;
  readonly default?: string | number | boolean;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Takes the rest of the arguments. */
  readonly variadic?: boolean;
}

export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | number | boolean | string[] | undefined>>;
  readonly positionals: Readonly<Record<string, string | string[] | undefined>>;
  /** Everything after `--`. */
  readonly rest: readonly string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(
  command: string,
  argv: readonly string[],
  options: readonly OptionSpec[],
  positionals: readonly PositionalSpec[],
): ParsedArgs {
  const out: Record<string, string | number | boolean | string[] | undefined> = {};
  for (const o of options) if (o.default !== undefined) out[o.name] = o.default;
  const pos: string[] = [];
  let rest: string[] = [];
  const byName = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short as string, o]));
  const hint = `(see \`mmsim ${command} --help\`)`;

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('--') || (a.startsWith('-') && a.length === 2 && !/^-\d$/.test(a))) {
      const eq = a.indexOf('=');
      const key = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1);
      const spec = a.startsWith('--') ? byName.get(key) : byShort.get(key);
      if (!spec) throw new UsageError(`mmsim ${command}: unknown option ${a} ${hint}`);
      if (spec.type === 'boolean') {
        if (eq > 0) {
          const v = a.slice(eq + 1);
          if (v !== 'true' && v !== 'false') throw new UsageError(`mmsim ${command}: --${spec.name} takes true or false, got "${v}"`);
          out[spec.name] = v === 'true';
        } else out[spec.name] = true;
        continue;
      }
      let value: string;
      if (eq > 0) value = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`mmsim ${command}: --${spec.name} needs a value ${hint}`);
        value = argv[++i];
      }
      if (spec.type === 'number') {
        const n = parseNumber(value);
        if (n === undefined) throw new UsageError(`mmsim ${command}: --${spec.name} takes a number, got "${value}"`);
        out[spec.name] = n;
      } else if (spec.type === 'list') {
        const prev = out[spec.name];
        out[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
      } else out[spec.name] = value;
      continue;
    }
    pos.push(a);
  }

  const named: Record<string, string | string[] | undefined> = {};
  let k = 0;
  for (const p of positionals) {
    if (p.variadic) {
      named[p.name] = pos.slice(k);
      if (p.required && pos.length <= k) throw new UsageError(`mmsim ${command}: missing ${p.name.toUpperCase()} ${hint}`);
      k = pos.length;
      break;
    }
    if (k < pos.length) named[p.name] = pos[k++];
    else if (p.required) throw new UsageError(`mmsim ${command}: missing ${p.name.toUpperCase()} ${hint}`);
  }
  if (k < pos.length) throw new UsageError(`mmsim ${command}: unexpected argument "${pos[k]}" ${hint}`);
  return { options: out, positionals: named, rest };
}
