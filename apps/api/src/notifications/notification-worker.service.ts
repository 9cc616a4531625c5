import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiMetrics } from '../metrics/api-metrics.js';
import { NotificationMailer } from './notification-mailer.js';
import { OutboxDrainer } from './outbox-drainer.js';

/**
 * Runs on every api replica (and in the all-in-one): every NOTIFY_POLL_MS it drains the due rows of both
 * outboxes. The poll is one query per outbox on a partial index of PENDING rows by due time, so an idle
 * installation pays two index lookups a second; replicas share the work through SKIP LOCKED claims.
 */
@Injectable()
export class NotificationWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationWorker.name);
  private readonly drainer: OutboxDrainer;
  private readonly pollMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(db: Database, @Inject(API_CONFIG) config: ApiConfig, mailer: NotificationMailer, metrics: ApiMetrics) {
    this.drainer = new OutboxDrainer(
      db,
      {
        allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
        timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
        retry: {
          baseMs: config.NOTIFY_RETRY_BASE_SECONDS * 1000,
          maxMs: 60 * 60_000,
          giveUpAfterMs: config.NOTIFY_GIVE_UP_HOURS * 60 * 60_000,
        },
        batchSize: 20,
      },
      mailer.configured ? mailer : null,
      (channel, outcome) => metrics.countNotificationAttempt(channel, outcome),
    );
    this.pollMs = config.NOTIFY_POLL_MS;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One drain; a tick that finds the previous one still running leaves it be. */
  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = this.drainer.drain();
    try {
      await this.running;
    } catch (error) {
      // PostgreSQL away: the rows wait in the outbox for the next tick.
      this.logger.warn(`notification outbox pass failed: ${(error as Error).message}`);
    } finally {
      this.running = undefined;
    }
  }
}
