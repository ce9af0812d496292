/** Plain integers and sizes with a binary suffix: 4k, 64M, 2G, 1T (K/KB/KiB alike). */
export function parseNumber(s: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?)\s*([kKmMgGtT]i?[bB]?)?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : unit === 't' ? 2 ** 40 : 1;
  const v = Math.round(Number(m[1]) * mult);
  return Number.isFinite(v) ? v : undefined;
}

/** A scenario size (a byte count, or a string such as "64M"), or undefined when it is none. */
export function sizeOf(x: unknown): number | undefined {
  const n = typeof x === 'number' ? x : typeof x === 'string' ? parseNumber(x) : undefined;
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A scenario duration in ns ("2s", "500ms", "1500us", "10ns", or a number of ns), or undefined. */
export function durationOf(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isSafeInteger(x) && x >= 0 ? x : undefined;
  if (typeof x !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m)?$/.exec(x.trim());
  if (!m) return undefined;
  const mult = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9 }[(m[2] ?? 'ns') as 'ns'];
  return Math.round(Number(m[1]) * mult);
}
