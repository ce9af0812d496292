// Deterministic randomness. A machine has one seed; each purpose draws from its own named
// stream derived from (seed, name), so a new consumer never shifts another one's draws.
// xoshiro128** on 32-bit lanes (Math.imul), seeded through splitmix32: the same numbers on
// every engine. The state is four uint32s and lives in aggregate state.

export type PrngState = readonly [number, number, number, number];

function splitmix32(x: number): [number, number] {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [x, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a 32-bit of a string's UTF-16 code units. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The initial state of the stream `name` of a machine seeded with `seed` (any safe integer). */
export function prngStream(seed: number, name: string): PrngState {
  let x = (fnv1a32(name) ^ (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x27d4eb2d)) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [nx, v] = splitmix32(x);
    x = nx;
    out.push(v);
  }
  if ((out[0] | out[1] | out[2] | out[3]) === 0) out[0] = 1;
  return [out[0], out[1], out[2], out[3]];
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Draws one uint32; returns it with the next state. */
export function nextU32(s: PrngState): [number, PrngState] {
  const [s0, s1, s2, s3] = s;
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = (s1 << 9) >>> 0;
  let n2 = (s2 ^ s0) >>> 0;
  let n3 = (s3 ^ s1) >>> 0;
  const n1 = (s1 ^ n2) >>> 0;
  const n0 = (s0 ^ n3) >>> 0;
  n2 = (n2 ^ t) >>> 0;
  n3 = rotl(n3, 11);
  return [result, [n0, n1, n2, n3]];
}

/** A uniform integer in [0, n) for 0 < n <= 2^32, without modulo bias. */
export function nextBelow(s: PrngState, n: number): [number, PrngState] {
  if (!(n > 0 && n <= 2 ** 32 && Number.isInteger(n))) throw new RangeError(`nextBelow: bad bound ${n}`);
  const limit = 2 ** 32 - (2 ** 32 % n);
  let state = s;
  for (;;) {
    const [v, next] = nextU32(state);
    state = next;
    if (v < limit) return [v % n, state];
  }
}
