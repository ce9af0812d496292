// State hashing. Events carry a hash of the emitting aggregate's state after applying them,
// so replay names the event where state drifted. Small aggregates hash a canonical walk of
// their state with StateHasher; big ones (frames, heap) keep an AddHash up to date as they
// mutate, so hashing costs O(1) per change instead of O(state) per event.

/** murmur3's 32-bit finalizer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const lo32 = (x: number): number => x >>> 0;
const hi32 = (x: number): number => Math.floor(x / 2 ** 32) >>> 0;

/**
 * A streaming 64-bit hash (two independent 32-bit lanes) over integers and strings, fed in a
 * canonical order. Integers must be safe integers (negative ones are fine).
 */
export class StateHasher {
  private a = 0x243f6a88;
  private b = 0x85a308d3;
  private n = 0;

  int(x: number): this {
    if (!Number.isSafeInteger(x)) throw new RangeError(`StateHasher.int: ${x} is not a safe integer`);
    const neg = x < 0 ? 1 : 0;
    const m = Math.abs(x);
    this.word(lo32(m));
    this.word(hi32(m) ^ (neg << 31));
    return this;
  }

  bool(x: boolean): this {
    return this.word(x ? 1 : 0);
  }

  str(s: string): this {
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    return this;
  }

  word(w: number): this {
    this.n++;
    this.a = fmix32((this.a ^ w) + Math.imul(this.n, 0x9e3779b1));
    this.b = fmix32((this.b + Math.imul(w ^ 0x5bd1e995, 0xcc9e2d51)) ^ this.a);
    return this;
  }

  /** 16 hex digits. */
  digest(): string {
    return hex8(fmix32(this.a ^ this.n)) + hex8(fmix32(this.b + this.n));
  }
}

/**
 * An order-independent multiset hash: the sum (mod 2^32, per lane) of a mix of each entry.
 * add() and remove() are O(1), so an aggregate that mutates in place keeps it current.
 */
export class AddHash {
  lo = 0;
  hi = 0;

  add(k: number, v: number): void {
    const [x, y] = mixEntry(k, v);
    this.lo = (this.lo + x) >>> 0;
    this.hi = (this.hi + y) >>> 0;
  }

  remove(k: number, v: number): void {
    const [x, y] = mixEntry(k, v);
    this.lo = (this.lo - x) >>> 0;
    this.hi = (this.hi - y) >>> 0;
  }

  /** Replaces the entry (k, from) by (k, to). */
  update(k: number, from: number, to: number): void {
    if (from === to) return;
    this.remove(k, from);
    this.add(k, to);
  }

  digest(): string {
    return hex8(this.hi) + hex8(this.lo);
  }
}

function mixEntry(k: number, v: number): [number, number] {
  const k0 = lo32(k), k1 = hi32(k), v0 = lo32(v), v1 = hi32(v);
  const x = fmix32(fmix32(k0 ^ 0x9e3779b9) ^ k1 ^ fmix32(v0 + 0x7f4a7c15) ^ Math.imul(v1, 0x165667b1));
  const y = fmix32(x ^ fmix32(k1 + 0x61c88647) ^ fmix32(v1 ^ 0x27d4eb2f) ^ Math.imul(k0 ^ v0, 0x85ebca77));
  return [x, y];
}

export const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');

/** Combines digests (hex strings) of parts into one. */
export function combineDigests(parts: readonly string[]): string {
  const h = new StateHasher();
  for (const p of parts) h.str(p);
  return h.digest();
}
