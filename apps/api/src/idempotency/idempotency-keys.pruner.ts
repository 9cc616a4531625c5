import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency-key.js';

/** How often expired keys are removed; they are ignored from the moment they expire, so this is only tidiness. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Removes Idempotency-Keys older than 24 h, at start-up and hourly (any replica; a DELETE twice is harmless). */
@Injectable()
export class IdempotencyKeysPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyKeysPruner.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: Database) {}

  onApplicationBootstrap(): void {
    void this.prune();
    this.timer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async prune(now = new Date()): Promise<number> {
    try {
      return await this.db.repos.idempotencyKeys.pruneOlderThan(new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS));
    } catch (error) {
      this.logger.warn(`expired idempotency keys not pruned, next try in an hour: ${(error as Error).message}`);
      return 0;
    }
  }
}
