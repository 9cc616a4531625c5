import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { BullmqJobDispatcher } from './bullmq-job-dispatcher.js';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher.js';
import { JobLauncher } from './job-launcher.service.js';
import { JobResultsService } from './job-results.service.js';
import { QueueConsumers } from './queue-consumers.service.js';
import { Reconciler } from './reconciler.service.js';
import { createRedisConnection } from './redis.js';
import { REDIS_CONNECTION } from './tokens.js';

/** Dispatch to agents, application of their results, and reconciliation of anything left unfinished. */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CONNECTION,
      inject: [API_CONFIG],
      useFactory: (c: ApiConfig) => createRedisConnection(c.REDIS_URL),
    },
    {
      provide: JOB_DISPATCHER,
      inject: [REDIS_CONNECTION, API_CONFIG],
      useFactory: (redis: Redis, c: ApiConfig) => new BullmqJobDispatcher(redis, c.QUEUE_PREFIX),
    },
    JobLauncher,
    JobResultsService,
    QueueConsumers,
    Reconciler,
  ],
  exports: [JobLauncher, Reconciler, JobResultsService, REDIS_CONNECTION],
})
export class OrchestrationModule implements OnApplicationShutdown {
  constructor(
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(REDIS_CONNECTION) private readonly redis: Redis,
  ) {}

  /** Runs after every beforeApplicationShutdown hook, so the workers are closed by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
    this.redis.disconnect();
  }
}
