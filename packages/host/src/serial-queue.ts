/** Runs tasks one after the other, each after the previous one settled. */
export class SerialQueue {
  private last: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const p = this.last.then(task, task);
    this.last = p.then(
      () => this.pending--,
      () => this.pending--,
    );
    return p;
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /** Resolves when everything queued so far has settled. */
  idle(): Promise<void> {
    return this.last.then(() => undefined);
  }
}
