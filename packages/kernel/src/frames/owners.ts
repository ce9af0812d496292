// Owner handles. A user frame's word holds a 21-bit handle standing for (kind, owner id,
// memcg): the anon_vma root or the file the page belongs to, and the memcg it is charged to.
// Handles count the frames that use them. A handle whose count drops to 0 stays registered
// (processes come back to the same owners: no churn on the fault path); when all 2^21 - 1
// handles are taken, the unused ones are swept (in handle order) and recycled.
import { quota } from '../common/index.js';
import type { PageKind } from '../contracts/frames.js';
import { T_HANDLES, T_HANDLE_FREE, T_FILES } from './counters.js';
import { MAX_HANDLES } from './frame-word.js';
import { A_HFILE, A_HFREE, A_HKIND, A_HMEMCG, A_HOWNER, A_FMAXCHUNK, type FramesState } from './state.js';

/** Internal kinds of user pages. Blockdev pages (Buffers) are file pages of a block device inode. */
export const K_ANON = 0;
export const K_FILE = 1;
export const K_SHMEM = 2;
export const K_BDEV = 3;

export const kindCode = (k: PageKind | 'bdev'): number => (k === 'anon' ? K_ANON : k === 'file' ? K_FILE : k === 'shmem' ? K_SHMEM : K_BDEV);
/** The contract's kind of an internal kind (blockdev pages are reported as file pages). */
export const pageKindOf = (c: number): PageKind => (c === K_ANON ? 'anon' : c === K_SHMEM ? 'shmem' : 'file');
export const isFileLru = (c: number): boolean => c === K_FILE || c === K_BDEV;
export const isPageCache = (c: number): boolean => c !== K_ANON;

const MAX_OWNER = 2 ** 32;
export const MAX_FILES = 2 ** 21;

export function validOwnerId(owner: number): boolean {
  return Number.isInteger(owner) && owner >= 0 && owner < MAX_OWNER;
}

const handleKey = (kind: number, owner: number, memcg: number): number => (owner * 4 + kind) * 65536 + memcg;

/** The handle of (kind, owner, memcg index), made if new. */
export function getHandle(s: FramesState, kind: number, owner: number, memcg: number): number {
  const key = handleKey(kind, owner, memcg);
  const found = s.handleIds.get(key);
  if (found !== undefined) return found;
  if (s.ctr[T_HANDLE_FREE] === 0 && s.ctr[T_HANDLES] + 1 >= MAX_HANDLES) sweepHandles(s);
  let h: number;
  const top = s.ctr[T_HANDLE_FREE];
  if (top > 0) {
    h = s.handleFree[top - 1];
    s.ctr[T_HANDLE_FREE] = top - 1;
  } else {
    h = s.ctr[T_HANDLES] + 1; // handle 0 is never used
    if (h >= MAX_HANDLES) throw quota('frames.TOO_MANY_OWNERS', `more than ${MAX_HANDLES - 1} distinct (owner, memcg) pairs have pages`);
    s.ctr[T_HANDLES] = h;
    s.ensureHandleCapacity(h + 1);
  }
  s.setArr(A_HKIND, h, kind);
  s.setArr(A_HOWNER, h, owner);
  s.setArr(A_HMEMCG, h, memcg);
  s.setArr(A_HFILE, h, kind === K_ANON ? -1 : fileNo(s, kind, owner));
  s.setHandleRefs(h, 0);
  s.handleIds.set(key, h);
  s.undo(() => s.handleIds.delete(key));
  s.hh.add(2 * h, owner * 4 + kind);
  s.hh.add(2 * h + 1, memcg + 1);
  return h;
}

/** Adds d frames to a handle's count. */
export function refHandle(s: FramesState, h: number, d: number): void {
  s.setHandleRefs(h, s.handleRefs[h] + d);
}

/** Unregisters every handle no frame uses onto the free stack (the lowest is reused first). */
function sweepHandles(s: FramesState): void {
  const n = s.ctr[T_HANDLES];
  for (let h = n; h >= 1; h--) {
    if (s.handleRefs[h] !== 0) continue;
    const kind = s.handleKind[h];
    const owner = s.handleOwner[h];
    const memcg = s.handleMemcg[h];
    const key = handleKey(kind, owner, memcg);
    if (s.handleIds.get(key) !== h) continue; // already on the free stack
    s.handleIds.delete(key);
    s.undo(() => s.handleIds.set(key, h));
    s.hh.remove(2 * h, owner * 4 + kind);
    s.hh.remove(2 * h + 1, memcg + 1);
    const top = s.ctr[T_HANDLE_FREE];
    s.setArr(A_HFREE, top, h);
    s.ctr[T_HANDLE_FREE] = top + 1;
  }
}

/** The page-cache file number of (kind, owner), made if new (file numbers are never recycled). */
export function fileNo(s: FramesState, kind: number, owner: number): number {
  const key = owner * 4 + kind;
  const found = s.fileIds.get(key);
  if (found !== undefined) return found;
  const f = s.ctr[T_FILES];
  if (f >= MAX_FILES) throw quota('frames.TOO_MANY_FILES', `more than ${MAX_FILES} files have cached pages`);
  s.ctr[T_FILES] = f + 1;
  s.ensureFileCapacity(f + 1);
  s.setArr(A_FMAXCHUNK, f, -1);
  s.fileIds.set(key, f);
  s.undo(() => s.fileIds.delete(key));
  s.hh.add(-1 - f, key);
  return f;
}

/** The file number of (kind, owner) if it has one, else -1 (does not make one). */
export function findFileNo(s: FramesState, kind: number, owner: number): number {
  return s.fileIds.get(owner * 4 + kind) ?? -1;
}
