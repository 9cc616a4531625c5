import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { POLICY_CLOCK, type Clock } from './clock.js';
import { PolicyRetentionPass } from './policy-retention-pass.js';
import { PolicyRunner } from './policy-runner.js';
import { PolicyWakeups } from './policy-wakeups.js';

/**
 * When this replica runs due policies: a timer armed for the earliest next_run_at it knows (re-armed at once when a
 * policy changes here), and a poll every POLICY_POLL_INTERVAL_MS that costs one index probe (earliestDue) and
 * learns of policies changed on other replicas. Runs start within a poll interval of their due time, not
 * CloudStack's 300 s; which replica runs an occurrence is settled in PostgreSQL (PolicyRunner). Plus the periodic
 * retention pass.
 */
@Injectable()
export class PolicyScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PolicyScheduler.name);
  private poller?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  private wake?: { timer: NodeJS.Timeout; at: number };
  private running?: Promise<void>;
  private again = false;
  private pruning?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly runner: PolicyRunner,
    private readonly retention: PolicyRetentionPass,
    private readonly wakeups: PolicyWakeups,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(POLICY_CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.POLICY_SCHEDULER_ENABLED) return;
    this.wakeups.listen((at) => this.arm(at.getTime()));
    // At start: whatever passed while no scheduler ran is due now (catch-up and MISSED, PolicyRunner).
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
      const at = await this.db.repos.snapshotPolicies.earliestDue();
      if (at) this.arm(at.getTime());
    } catch (error) {
      this.logger.warn(`policy poll failed: ${(error as Error).message}`);
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
          await this.runner.runDue();
        } catch (error) {
          this.logger.error(`policy pass failed: ${(error as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  private async prune(): Promise<void> {
    if (this.pruning) return;
    this.pruning = this.retention
      .pruneAll()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn(`retention pass failed: ${(error as Error).message}`))
      .finally(() => (this.pruning = undefined));
    await this.pruning;
  }
}
