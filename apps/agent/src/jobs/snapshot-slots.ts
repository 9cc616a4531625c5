/**
 * A counting semaphore: at most `limit` tasks run at once, the others wait in arrival order. A waiting task
 * has already been taken from the queue; its job stays in RunningJobs, so heartbeats keep its lease alive.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`A semaphore needs a limit of at least 1, not ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Tasks running now; for tests and diagnostics. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot; for tests and diagnostics. */
  get queued(): number {
    return this.waiting.length;
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    // The slot is handed over by release(): `active` does not drop, so no newcomer can jump the queue.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * The host's snapshot operations at once (AGENT_MAX_CONCURRENT_SNAPSHOTS, like CloudStack's
 * concurrent.snapshots.threshold.perhost): volume snapshot create and delete, instance snapshot create, revert and
 * delete. A class of its own so that it is one Nest provider shared by those handlers.
 */
export class SnapshotSlots extends Semaphore {}
