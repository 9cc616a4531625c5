import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DatabaseHealthIndicator, QueueHealthIndicator } from './health.indicators.js';

/**
 * `/health`: 200 when the database and the queue answer, 503 otherwise. `/ready` adds that the migrations are
 * applied. Both unauthenticated, with terminus's JSON body naming what failed.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly queue: QueueHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.check(), () => this.queue.check()]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.check(), () => this.queue.check(), () => this.database.migrations()]);
  }
}
