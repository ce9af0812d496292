// The per-frame part of the state hash: common/hash.ts AddHash's construction (an
// order-independent sum, per 32-bit lane, of a mix of each entry), specialised so that the hot
// path allocates nothing: one entry per frame, (frame, word, index), present when the frame's
// word or index is not 0. A change to a frame costs one remove and one add: O(1) per frame.
import { fmix32, hex8 } from '../common/index.js';

const laneX = (k: number, w: number, x: number): number =>
  fmix32((Math.imul(k, 0x9e3779b1) ^ Math.imul(w ^ 0x7f4a7c15, 0x85ebca77) ^ Math.imul(x + 0x165667b1, 0xc2b2ae35)) >>> 0);
const laneY = (k: number, w: number, x: number, a: number): number =>
  fmix32((a ^ Math.imul(k + 0x61c88647, 0x27d4eb2f) ^ Math.imul(w + x, 0x165667b1) ^ x) >>> 0);

export class FrameHash {
  lo = 0;
  hi = 0;

  /** Adds (sign 1) or removes (sign -1) the entry of frame k with this word and index. */
  entry(k: number, w: number, x: number, sign: number): void {
    if (w === 0 && x === 0) return;
    const a = laneX(k, w, x);
    const b = laneY(k, w, x, a);
    this.lo = (this.lo + sign * a) >>> 0;
    this.hi = (this.hi + sign * b) >>> 0;
  }

  digest(): string {
    return hex8(this.hi) + hex8(this.lo);
  }
}
