// The page cache index (a file's xarray in the kernel): (file, page index) -> the frame that
// caches it, or for shmem a swap slot when the page is swapped out. Stored as chunks of 512
// entries per (file, index >> 9), so sequential files cost 4 bytes per cached page and sparse
// ones one chunk per touched 2 MiB.
//   entry 0: empty; > 0: frame index + 1; < 0: -(swap slot + 1) (shmem only)
import { A_FMAXCHUNK, type FramesState } from './state.js';

const CHUNK = 512;
const chunkKey = (file: number, index: number): number => file * 2 ** 23 + Math.floor(index / CHUNK);

export function pcGet(s: FramesState, file: number, index: number): number {
  const c = s.chunks.get(chunkKey(file, index));
  return c === undefined ? 0 : c[index % CHUNK];
}

export function pcSet(s: FramesState, file: number, index: number, v: number): void {
  const key = chunkKey(file, index);
  let c = s.chunks.get(key);
  if (c === undefined) {
    if (v === 0) return;
    const made = new Int32Array(CHUNK + 1);
    c = made;
    s.chunks.set(key, made);
    s.undo(() => s.chunks.delete(key));
    const ch = Math.floor(index / CHUNK);
    if (ch > s.fileMaxChunk[file]) s.setArr(A_FMAXCHUNK, file, ch);
  }
  const slot = index % CHUNK;
  const old = c[slot];
  if (old === v) return;
  const chunk = c;
  s.undo(() => {
    chunk[slot] = old;
    chunk[CHUNK] += (old !== 0 ? 1 : 0) - (v !== 0 ? 1 : 0);
  });
  c[slot] = v;
  c[CHUNK] += (v !== 0 ? 1 : 0) - (old !== 0 ? 1 : 0);
  // Shmem swap entries live only here, so they are hashed here (frames cover the rest).
  const hk = file * 2 ** 32 + index;
  if (old < 0) s.ph.remove(hk, -old);
  if (v < 0) s.ph.add(hk, -v);
  if (c[CHUNK] === 0) {
    s.chunks.delete(key);
    s.undo(() => s.chunks.set(key, chunk));
  }
}

/** Every (index, entry) of a file, in index order. */
export function pcEntries(s: FramesState, file: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const max = s.fileMaxChunk[file];
  for (let ch = 0; ch <= max; ch++) {
    const c = s.chunks.get(file * 2 ** 23 + ch);
    if (c === undefined) continue;
    for (let k = 0; k < CHUNK; k++) if (c[k] !== 0) out.push([ch * CHUNK + k, c[k]]);
  }
  return out;
}
