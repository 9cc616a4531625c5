import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AGENT_EVENTS_QUEUE, RESULTS_QUEUE, type AgentEvent, type ResultMessage } from '@snapdeck/contracts';
import type { InProcessBus } from '@snapdeck/transport';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AgentMessages } from './agent-messages.service.js';

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
    const options = { connection: this.connection, prefix: this.prefix };
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
  }
}
