// The kernel's struct list_head, over frame indexes: the buddy free lists, the LRU lists and
// the kernel-page lists are circular lists threaded through the frame table's next/prev
// arrays, each known by its head frame (-1: empty). Where the head is kept differs by list.
import type { FramesState } from './state.js';

/** Links frame i just before head h (at the tail of h's ring), or alone when h < 0. */
export function ringLinkBefore(s: FramesState, h: number, i: number): void {
  if (h < 0) {
    s.setNext(i, i);
    s.setPrev(i, i);
    return;
  }
  const t = s.prev[h];
  s.setNext(i, h);
  s.setPrev(i, t);
  s.setNext(t, i);
  s.setPrev(h, i);
}

/** Unlinks frame i from its ring; returns its successor, or -1 when i was alone. */
export function ringUnlink(s: FramesState, i: number): number {
  const n = s.next[i];
  if (n === i) return -1;
  const p = s.prev[i];
  s.setNext(p, n);
  s.setPrev(n, p);
  return n;
}
