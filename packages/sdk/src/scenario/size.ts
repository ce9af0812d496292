/** Plain integers and sizes with a binary suffix: 4k, 64M, 2G, 1T (K/KB/KiB alike). */
export function parseNumber(s: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?)\s*([kKmMgGtT]i?[bB]?)?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : unit === 't' ? 2 ** 40 : 1;
  const v = Math.round(Number(m[1]) * mult);
  return Number.isFinite(v) ? v : undefined;
}
