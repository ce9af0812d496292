// The kernel's reading of a memory size written to a file (lib/cmdline.c memparse(), and
// mm/page_counter.c page_counter_memparse() for cgroup limits), for every place that takes
// one: vma's cgroup writes, and the oom what-if's changes to them.

/**
 * page_counter_memparse(): "max" (-1 here), or memparse()'s number: simple_strtoull base 0
 * (decimal, 0x hex, 0-led octal), then at most one of K M G T P E (either case, powers of
 * 1024), and nothing after it. Surrounding whitespace is stripped, as a cgroup write is.
 * Undefined for anything else, or a value past 2^53.
 */
export function pageCounterMemparse(value: string): number | undefined {
  const v = value.trim();
  if (v === 'max') return -1;
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)$/.exec(v);
  if (!m) return undefined;
  const digits = m[1];
  const base = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 ? BigInt(digits.startsWith('0') ? `0o${digits.slice(1)}` : digits) : BigInt(digits);
  const shift = 10n * BigInt(' kmgtpe'.indexOf(m[2].toLowerCase() || ' '));
  const n = Number(base << shift);
  return Number.isSafeInteger(n) ? n : undefined;
}
