// C integer arithmetic. JS shifts are 32-bit and Math.floor rounds negatives down, so kernel
// formulas are ported with these instead.

/** C division: truncates toward zero. */
export function cdiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('cdiv: division by zero');
  return Math.trunc(a / b);
}

/** lib/math/int_sqrt.c: floor(sqrt(x)) for x >= 0, exact for integers below 2^53. */
export function intSqrt(x: number): number {
  if (x < 0 || !Number.isInteger(x)) throw new RangeError(`intSqrt: ${x} is not a natural number`);
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** x * 2^n without 32-bit overflow. */
export const shl = (x: number, n: number): number => x * 2 ** n;
/** floor(x / 2^n) for x >= 0, without 32-bit truncation. */
export const shr = (x: number, n: number): number => Math.floor(x / 2 ** n);

export const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;
export const alignDown = (x: number, a: number): number => Math.floor(x / a) * a;
export const isAligned = (x: number, a: number): boolean => x % a === 0;

export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
