import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AGENT_EVENTS_QUEUE, RESULTS_QUEUE, type AgentEvent, type ResultMessage } from '@snapdeck/contracts';
import type { InProcessBus } from '@snapdeck/transport';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AgentMessages } from './agent-messages.service.js';

/**
 * Results and agent events are short and idempotent (close() is exactly-once, a heartbeat only renews), so a
 * message held by an api that crashed or froze should go to another replica in seconds, not after BullMQ's
 * default 30 s lock plus a 30 s stall check. lockDuration: a message's lock lives 10 s and is renewed every
 * lockRenewTime (lockDuration / 2 by default) while its handler runs, so a slow PostgreSQL keeps its message;
 * stalledInterval: every 5 s a worker moves the messages whose lock lapsed back to waiting; maxStalledCount:
 * applying again is harmless, so a message may stall a few times before BullMQ fails it (the agent's outbox
 * publishes a FINISHED again anyway).
 */
const MESSAGE_LOCKS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 };

/** Cluster: BullMQ workers on the results and agent-events queues that every agent adds to. */
export class BullmqAgentMessageConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BullmqAgentMessageConsumer.name);
  private workers: Worker[] = [];

  constructor(
    private readonly messages: AgentMessages,
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  onApplicationBootstrap(): void {
    const options = { connection: this.connection, prefix: this.prefix, ...MESSAGE_LOCKS };
    this.workers = [
      new Worker<ResultMessage>(RESULTS_QUEUE, (job) => this.messages.result(job.data), { ...options, concurrency: 8 }),
      new Worker<AgentEvent>(AGENT_EVENTS_QUEUE, (job) => this.messages.agentEvent(job.data), {
        ...options,
        concurrency: 4,
      }),
    ];
    for (const worker of this.workers) {
      worker.on('failed', (job, error) =>
        this.logger.warn(`${worker.name} message ${job?.id} failed: ${error.message}`),
      );
      worker.on('error', (error) => this.logger.error(`${worker.name}: ${error.message}`));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** All-in-one: the co-located agent's messages arrive by function call; a rejection reaches the agent. */
export class InProcessAgentMessageConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly messages: AgentMessages,
    private readonly bus: InProcessBus,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.onResult((message) => this.messages.result(message));
    this.bus.onAgentEvent((event) => this.messages.agentEvent(event));
    this.bus.onFenceQuery((jobId, attempt) => this.messages.isCurrentAttempt(jobId, attempt));
  }
}
