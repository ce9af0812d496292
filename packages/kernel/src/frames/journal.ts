// An undo log. decide() must not change state, but frames keeps its state in big typed arrays
// that it updates in place; so decide() runs the real code with the journal on, collects the
// outcome, and rolls every write back. Scalar counters are not journaled: they are copied
// once when the journal opens (FramesState.ctr is small) and restored on rollback.

export type JournaledArray = Uint32Array | Int32Array | Float64Array | Uint16Array | Uint8Array;

/** An undo action for state that is not a typed array (Maps, page-cache chunks). */
export type UndoAction = () => void;

const SPECIAL = 255;

export class Journal {
  private ids = new Uint8Array(4096);
  private idx = new Uint32Array(4096);
  private old = new Float64Array(4096);
  private n = 0;
  private undo: UndoAction[] = [];

  get size(): number {
    return this.n;
  }

  /** Records that arrays[id][i] held `old` before a write. */
  rec(id: number, i: number, old: number): void {
    if (this.n === this.ids.length) this.grow();
    this.ids[this.n] = id;
    this.idx[this.n] = i;
    this.old[this.n] = old;
    this.n++;
  }

  /** Records a closure that undoes a change to non-array state. */
  recUndo(action: UndoAction): void {
    this.rec(SPECIAL, this.undo.length, 0);
    this.undo.push(action);
  }

  /** Undoes every recorded write, newest first. `arrays` is read by id at rollback time, so arrays grown meanwhile are fine. */
  rollback(arrays: readonly JournaledArray[]): void {
    for (let k = this.n - 1; k >= 0; k--) {
      const id = this.ids[k];
      if (id === SPECIAL) this.undo[this.idx[k]]();
      else arrays[id][this.idx[k]] = this.old[k];
    }
    this.clear();
  }

  clear(): void {
    this.n = 0;
    this.undo = [];
    // Do not keep a huge log's memory around after a 1 GiB fault.
    if (this.ids.length > 1 << 20) {
      this.ids = new Uint8Array(4096);
      this.idx = new Uint32Array(4096);
      this.old = new Float64Array(4096);
    }
  }

  private grow(): void {
    const len = this.ids.length * 2;
    const ids = new Uint8Array(len);
    ids.set(this.ids);
    const idx = new Uint32Array(len);
    idx.set(this.idx);
    const old = new Float64Array(len);
    old.set(this.old);
    this.ids = ids;
    this.idx = idx;
    this.old = old;
  }
}
