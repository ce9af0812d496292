// Exact conversions between the numbers of TS events (safe integers) and protobuf fields, for the
// aggregates' codecs. ts-proto writes a uint32 field with `>>> 0` and a 64-bit one from a
// bigint: a negative, fractional or too large number would be stored as some other value
// without a word. Every conversion here checks its range and throws EventCodecError instead,
// naming the field, so an event either round-trips exactly or is refused.

export class EventCodecError extends RangeError {
  override readonly name = 'EventCodecError';
}

const fail = (what: string, v: unknown, want: string): never => {
  throw new EventCodecError(`${what}: ${String(v)} is not ${want}`);
};

/** A uint32 field: an integer in [0, 2^32). */
export function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) fail(what, v, 'an integer in [0, 2^32)');
  return v;
}

/** A sint32 field: an integer in [-2^31, 2^31). */
export function s32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) fail(what, v, 'an integer in [-2^31, 2^31)');
  return v;
}

/** A uint64 field: a non-negative safe integer (< 2^53). */
export function u64(v: number, what: string): bigint {
  if (!Number.isSafeInteger(v) || v < 0) fail(what, v, 'a non-negative safe integer');
  return BigInt(v);
}

/** A sint64 field: a safe integer. */
export function s64(v: number, what: string): bigint {
  if (!Number.isSafeInteger(v)) fail(what, v, 'a safe integer');
  return BigInt(v);
}

/**
 * A uint64 field holding a system call's address or length as the program passed it or glibc
 * computed it: any integer-valued number below 2^64. A caller may ask for a length past 2^53
 * (malloc(2^53 - 1) rounds its mmap up to 2^53 + 4096): every such number is an integer and
 * the field holds it exactly; the kernel then answers ENOMEM. Read back with `numArg`.
 */
export function u64Arg(v: number, what: string): bigint {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 64) fail(what, v, 'an integer in [0, 2^64)');
  return BigInt(v);
}

/** A `u64Arg` field back to a number: exact (a value no double holds is refused). */
export function numArg(v: bigint, what: string): number {
  const n = Number(v);
  if (BigInt(n) !== v) fail(what, v, 'a value a double holds exactly');
  return n;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);

/** A 64-bit field back to a number: exact, or EventCodecError. */
export function num(v: bigint, what: string): number {
  if (v > MAX || v < MIN) fail(what, v, 'a safe integer');
  return Number(v);
}

export const u64s = (vs: readonly number[], what: string): bigint[] => vs.map((v) => u64(v, what));
export const s64s = (vs: readonly number[], what: string): bigint[] => vs.map((v) => s64(v, what));
export const u32s = (vs: readonly number[], what: string): number[] => vs.map((v) => u32(v, what));
export const nums = (vs: readonly bigint[], what: string): number[] => vs.map((v) => num(v, what));

/** A sub-message the TS event always has: absent on the wire means a malformed event. */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new EventCodecError(`${what} is missing`);
  return v;
}

/** One of the allowed numbers (uint32 fields that hold a TS literal union such as 0 | 1 | 2). */
export function oneOf<T extends number>(v: number, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly number[]).includes(v)) fail(what, v, `one of ${allowed.join(', ')}`);
  return v as T;
}

/** One of the allowed strings (string fields that hold a TS string union). */
export function oneOfStrings<T extends string>(v: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(v)) fail(what, JSON.stringify(v), `one of ${allowed.join(', ')}`);
  return v as T;
}

export interface EnumMap<T extends string, P extends number> {
  to(v: T): P;
  from(p: P): T;
}

/**
 * A TS string union <-> a proto enum, from a table that names every TS value (so a value added
 * to the union is a type error here until it has its enum value). The zero (_UNSPECIFIED) value
 * and unknown numbers are refused on the way back.
 */
export function enumMap<T extends string, P extends number>(what: string, table: Record<T, P>): EnumMap<T, P> {
  const back = new Map<number, T>();
  for (const k of Object.keys(table) as T[]) back.set(table[k], k);
  return {
    to(v) {
      if (!Object.hasOwn(table, v)) return fail(what, JSON.stringify(v), `one of ${Object.keys(table).join(', ')}`);
      return table[v];
    },
    from(p) {
      const v = back.get(p);
      if (v === undefined) return fail(what, p, 'a known enum value');
      return v;
    },
  };
}
