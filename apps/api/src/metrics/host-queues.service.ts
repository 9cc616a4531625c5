import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { hostQueueName } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { REDIS_CONNECTION } from '../orchestration/tokens.js';

/**
 * Read-only handles on the per-host queues, for their depth: one Queue per host, kept for the next scrape and
 * closed before the shared Redis connection is (OrchestrationModule closes it in onApplicationShutdown).
 */
@Injectable()
export class HostQueues implements BeforeApplicationShutdown {
  private readonly queues = new Map<string, Queue>();

  constructor(
    @Inject(REDIS_CONNECTION) private readonly connection: Redis,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Deliveries the host's agent has not finished yet: waiting, active and delayed (retries in backoff). */
  async depth(hostName: string): Promise<number> {
    const counts = await this.queueOf(hostName).getJobCounts('waiting', 'active', 'delayed');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close()));
  }

  private queueOf(hostName: string): Queue {
    let queue = this.queues.get(hostName);
    if (!queue) {
      queue = new Queue(hostQueueName(hostName), { connection: this.connection, prefix: this.config.QUEUE_PREFIX });
      this.queues.set(hostName, queue);
    }
    return queue;
  }
}
