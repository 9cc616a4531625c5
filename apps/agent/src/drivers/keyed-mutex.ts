/**
 * Runs tasks one at a time per key, in arrival order, while tasks of different keys run in parallel.
 * qcow2 files take a write lock: two qemu-img processes on one file make the second fail, and a
 * check-then-act (does the tag exist? then create it) must not interleave with another on the same file.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    // `previous` only ever resolves (it is a chain of `done` promises), so the chain never breaks.
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow with every volume ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs the task holding every key at once. Keys are taken in sorted order, whoever asks: two callers that
   * need the same pair (a volume and the volume it copies from) can never each hold one and wait for the other.
   */
  async runAll<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const ordered = [...new Set(keys)].sort();
    const nest = (i: number): Promise<T> => (i === ordered.length ? task() : this.run(ordered[i], () => nest(i + 1)));
    return nest(0);
  }

  /** Keys with a task running or queued; for tests and diagnostics. */
  get busyKeys(): number {
    return this.tails.size;
  }
}
