import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { InProcessBus } from '@snapdeck/transport';
import type { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { BullmqAgentMessageConsumer, InProcessAgentMessageConsumer } from './agent-message-consumers.js';
import { AgentMessages } from './agent-messages.service.js';
import { BullmqJobDispatcher } from './bullmq-job-dispatcher.js';
import { InProcessJobDispatcher } from './in-process-job-dispatcher.js';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher.js';
import { JobLauncher } from './job-launcher.service.js';
import { JobResultsService } from './job-results.service.js';
import { Reconciler } from './reconciler.service.js';
import { createRedisConnection } from './redis.js';
import { IN_PROCESS_BUS, REDIS_CONNECTION } from './tokens.js';

const AGENT_MESSAGE_CONSUMER = Symbol('AGENT_MESSAGE_CONSUMER');

/**
 * Dispatch to agents, application of their results, and reconciliation of anything left unfinished. The
 * transport is Redis (BullMQ) on the cluster stack, or the InProcessBus of an all-in-one process; everything
 * above the dispatcher port and the message consumer is the same on both.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CONNECTION,
      inject: [API_CONFIG, IN_PROCESS_BUS],
      useFactory: (c: ApiConfig, bus: InProcessBus | null) => (bus ? null : createRedisConnection(c.REDIS_URL)),
    },
    {
      provide: JOB_DISPATCHER,
      inject: [REDIS_CONNECTION, API_CONFIG, IN_PROCESS_BUS],
      useFactory: (redis: Redis | null, c: ApiConfig, bus: InProcessBus | null): JobDispatcher =>
        bus ? new InProcessJobDispatcher(bus) : new BullmqJobDispatcher(redis!, c.QUEUE_PREFIX),
    },
    {
      provide: AGENT_MESSAGE_CONSUMER,
      inject: [AgentMessages, REDIS_CONNECTION, API_CONFIG, IN_PROCESS_BUS],
      useFactory: (messages: AgentMessages, redis: Redis | null, c: ApiConfig, bus: InProcessBus | null) =>
        bus
          ? new InProcessAgentMessageConsumer(messages, bus)
          : new BullmqAgentMessageConsumer(messages, redis!, c.QUEUE_PREFIX),
    },
    AgentMessages,
    JobLauncher,
    JobResultsService,
    Reconciler,
  ],
  exports: [JobLauncher, Reconciler, JobResultsService, REDIS_CONNECTION, JOB_DISPATCHER],
})
export class OrchestrationModule implements OnApplicationShutdown {
  constructor(
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(REDIS_CONNECTION) private readonly redis: Redis | null,
  ) {}

  /** Runs after every beforeApplicationShutdown hook, so the workers are closed by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
    this.redis?.disconnect();
  }
}
