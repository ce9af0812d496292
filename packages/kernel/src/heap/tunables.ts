// elf/dl-tunables.c and elf/dl-tunables.list (glibc 2.36): the glibc.malloc.* tunables a
// process starts with, from GLIBC_TUNABLES and the MALLOC_*_ aliases in its environment.
//
// __tunables_init walks the environment in order. GLIBC_TUNABLES=name=value:name=value sets
// each listed tunable (again if already set); an alias sets its tunable only if nothing set it
// before, so GLIBC_TUNABLES wins wherever it appears. Values are read like strtoul (decimal,
// 0x hex, 0 octal, a leading '-' negates, the rest of the string is ignored) and dropped when
// outside the tunable's bounds. A secure (setuid) process ignores them all: the malloc
// tunables are SXID_IGNORE or SXID_ERASE.

export type MallocTunable =
  | 'check'
  | 'top_pad'
  | 'perturb'
  | 'mmap_threshold'
  | 'trim_threshold'
  | 'mmap_max'
  | 'arena_max'
  | 'arena_test'
  | 'tcache_max'
  | 'tcache_count'
  | 'tcache_unsorted_limit'
  | 'mxfast'
  | 'hugetlb';

interface TunableDef {
  readonly name: MallocTunable;
  readonly alias?: string;
  readonly signed: boolean;
  readonly min: bigint;
  readonly max: bigint;
}

const SIZE_MAX = (1n << 64n) - 1n;
const INT32_MAX = 2147483647n;

/** In the order of dl-tunables.list, as `ld.so --list-tunables` prints their bounds. */
const TUNABLES: readonly TunableDef[] = [
  { name: 'check', alias: 'MALLOC_CHECK_', signed: true, min: 0n, max: 3n },
  { name: 'top_pad', alias: 'MALLOC_TOP_PAD_', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'perturb', alias: 'MALLOC_PERTURB_', signed: true, min: 0n, max: 255n },
  { name: 'mmap_threshold', alias: 'MALLOC_MMAP_THRESHOLD_', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'trim_threshold', alias: 'MALLOC_TRIM_THRESHOLD_', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'mmap_max', alias: 'MALLOC_MMAP_MAX_', signed: true, min: 0n, max: INT32_MAX },
  { name: 'arena_max', alias: 'MALLOC_ARENA_MAX', signed: false, min: 1n, max: SIZE_MAX },
  { name: 'arena_test', alias: 'MALLOC_ARENA_TEST', signed: false, min: 1n, max: SIZE_MAX },
  { name: 'tcache_max', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'tcache_count', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'tcache_unsorted_limit', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'mxfast', signed: false, min: 0n, max: SIZE_MAX },
  { name: 'hugetlb', signed: false, min: 0n, max: SIZE_MAX },
];

/** The tunables that were set, as the numbers the malloc callbacks receive. */
export type MallocTunables = Partial<Record<MallocTunable, number>>;

/** _dl_strtoul(): the value as a uint64 (BigInt). */
export function dlStrtoul(s: string): bigint {
  let i = 0;
  while (s[i] === ' ' || s[i] === '\t') i++;
  let positive = true;
  if (s[i] === '-') {
    positive = false;
    i++;
  } else if (s[i] === '+') i++;
  if (!(s[i] >= '0' && s[i] <= '9')) return 0n;
  let base = 10n;
  let maxDigit = 9;
  if (s[i] === '0') {
    if (s[i + 1] === 'x' || s[i + 1] === 'X') {
      base = 16n;
      i += 2;
    } else {
      base = 8n;
      maxDigit = 7;
    }
  }
  let result = 0n;
  for (; i < s.length; i++) {
    const c = s[i];
    let d: number;
    if (c >= '0' && c <= String.fromCharCode(48 + maxDigit)) d = c.charCodeAt(0) - 48;
    else if (base === 16n && c >= 'a' && c <= 'f') d = c.charCodeAt(0) - 87;
    else if (base === 16n && c >= 'A' && c <= 'F') d = c.charCodeAt(0) - 55;
    else break;
    if (result >= (SIZE_MAX - BigInt(d)) / base) return SIZE_MAX;
    result = result * base + BigInt(d);
  }
  return positive ? result : (-result) & SIZE_MAX;
}

/** The value as the tunable stores it (intmax_t), or undefined when out of bounds. */
function checked(def: TunableDef, text: string): bigint | undefined {
  const u = dlStrtoul(text);
  // tunable_num_t is intmax_t: reinterpret the uint64
  const v = u >= 1n << 63n ? u - (1n << 64n) : u;
  if (def.signed) {
    if (v < def.min || v > def.max) return undefined;
    return v;
  }
  const uv = v < 0n ? v + (1n << 64n) : v;
  if (uv < def.min || uv > def.max) return undefined;
  return uv;
}

/** __tunables_init(envp) restricted to glibc.malloc.* */
export function parseMallocTunables(env: readonly string[], secure = false): MallocTunables {
  const set = new Map<MallocTunable, bigint>();
  if (secure) return {};
  for (const line of env) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (name === 'GLIBC_TUNABLES') {
      for (const part of value.split(':')) {
        const e = part.indexOf('=');
        if (e < 0) continue;
        const tname = part.slice(0, e);
        if (!tname.startsWith('glibc.malloc.')) continue;
        const def = TUNABLES.find((t) => 'glibc.malloc.' + t.name === tname);
        if (def === undefined) continue;
        const v = checked(def, part.slice(e + 1));
        if (v !== undefined) set.set(def.name, v);
      }
      continue;
    }
    const def = TUNABLES.find((t) => t.alias === name);
    if (def === undefined || set.has(def.name)) continue;
    const v = checked(def, value);
    if (v !== undefined) set.set(def.name, v);
  }
  const out: MallocTunables = {};
  for (const [k, v] of set) out[k] = Number(v);
  return out;
}
