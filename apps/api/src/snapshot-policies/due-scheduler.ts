import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ApiConfig } from '../config.js';
import type { Clock } from './clock.js';
import type { PolicyWakeups } from './policy-wakeups.js';

/**
 * When this replica runs what is due in a table of durable due rows (snapshot policies, backup schedules): a timer
 * armed for the earliest next_run_at it knows (re-armed at once when a row changes here), and a poll every
 * POLICY_POLL_INTERVAL_MS that costs one index probe (earliestDue) and learns of rows changed on other replicas.
 * Runs start within a poll interval of their due time, not CloudStack's 300 s; which replica runs an occurrence is
 * settled in PostgreSQL (the runner's FOR UPDATE SKIP LOCKED). Plus a periodic prune pass.
 */
export abstract class DueScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(this.constructor.name);
  private poller?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  private wake?: { timer: NodeJS.Timeout; at: number };
  private running?: Promise<void>;
  private again = false;
  private pruning?: Promise<void>;
  private stopped = false;

  protected constructor(
    private readonly wakeups: PolicyWakeups,
    private readonly config: ApiConfig,
    private readonly clock: Clock,
  ) {}

  /** The earliest next_run_at of an enabled row, or null. */
  protected abstract earliestDue(): Promise<Date | null>;
  /** Runs everything due now. */
  protected abstract runDue(): Promise<unknown>;
  /** The periodic retention pass. */
  protected abstract pruneAll(): Promise<unknown>;

  onApplicationBootstrap(): void {
    if (!this.config.POLICY_SCHEDULER_ENABLED) return;
    this.wakeups.listen((at) => this.arm(at.getTime()));
    // At start: whatever passed while no scheduler ran is due now (catch-up and MISSED, the runner's).
    void this.poll();
    this.poller = setInterval(() => void this.poll(), this.config.POLICY_POLL_INTERVAL_MS);
    this.poller.unref();
    this.pruner = setInterval(() => void this.prune(), this.config.POLICY_PRUNE_INTERVAL_SECONDS * 1000);
    this.pruner.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    clearInterval(this.pruner);
    if (this.wake) clearTimeout(this.wake.timer);
    await Promise.all([this.running, this.pruning]);
  }

  private async poll(): Promise<void> {
    try {
      const at = await this.earliestDue();
      if (at) this.arm(at.getTime());
    } catch (error) {
      this.logger.warn(`poll failed: ${(error as Error).message}`);
    }
  }

  /** Runs now if `at` has come, else makes sure a timer fires by then. */
  private arm(at: number): void {
    if (this.stopped) return;
    const delay = at - this.clock.now().getTime();
    if (delay <= 0) return this.kick();
    // Further away than the next polls: they arm it nearer the time (and setTimeout overflows past 24.8 days).
    if (delay > 2 * this.config.POLICY_POLL_INTERVAL_MS) return;
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.kick();
    }, delay);
    timer.unref();
    this.wake = { timer, at };
  }

  /** One runDue at a time on this replica; a kick meanwhile runs another pass after it. */
  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.runDue();
        } catch (error) {
          this.logger.error(`pass failed: ${(error as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  private async prune(): Promise<void> {
    if (this.pruning) return;
    this.pruning = this.pruneAll()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn(`retention pass failed: ${(error as Error).message}`))
      .finally(() => (this.pruning = undefined));
    await this.pruning;
  }
}
