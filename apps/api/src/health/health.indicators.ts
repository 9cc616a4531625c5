import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Database } from '@snapdeck/persistence';
import { JOB_DISPATCHER, type JobDispatcher } from '../orchestration/job-dispatcher.js';

/** How long a dependency may take to answer before it counts as down. */
export const PROBE_TIMEOUT_MS = 2000;

/** PostgreSQL answers `SELECT 1`. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly db: Database,
  ) {}

  check(key = 'database'): PromiseLike<HealthIndicatorResult> {
    return this.health
      .check(key)
      .attempt(() => this.db.ping())
      .withTimeout(PROBE_TIMEOUT_MS);
  }

  /** Every migration this build knows is applied: the schema is the one the code expects. */
  async migrations(key = 'migrations'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      return (await this.db.migrationsApplied()) ? indicator.up() : indicator.down({ message: 'pending migrations' });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

/** The transport to the agents can take work: Redis answers PING on the cluster stack; memory always can. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
  ) {}

  check(key = 'queue'): PromiseLike<HealthIndicatorResult> {
    return this.health
      .check(key)
      .attempt(() => this.dispatcher.ping())
      .withTimeout(PROBE_TIMEOUT_MS);
  }
}
