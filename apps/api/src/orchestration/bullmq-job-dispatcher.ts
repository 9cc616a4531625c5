import { deliveryId, hostQueueName, type JobEnvelope } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobDispatcher } from './job-dispatcher.js';

/** Sends each job to the BullMQ queue of its host, one queue per host so agents consume only their own. */
export class BullmqJobDispatcher implements JobDispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  async send(hostName: string, envelope: JobEnvelope): Promise<void> {
    await this.queueOf(hostName).add(envelope.name, envelope, {
      // One id per delivery: BullMQ ignores a second add with the same id, a re-dispatch must not be ignored.
      jobId: deliveryId(envelope.jobId, envelope.attempt),
      removeOnComplete: true,
      removeOnFail: 1000,
      // Retries inside BullMQ cover an agent that could not publish its result; the Job row's lease covers the rest.
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  async withdraw(hostName: string, jobId: string, attempts: number): Promise<void> {
    const queue = this.queueOf(hostName);
    // remove() leaves a delivery an agent holds (locked) alone: that one finishes and its late result is ignored.
    for (let attempt = 1; attempt <= attempts; attempt++) await queue.remove(deliveryId(jobId, attempt));
  }

  async pendingDeliveries(hostName: string): Promise<number> {
    const counts = await this.queueOf(hostName).getJobCounts('waiting', 'active', 'delayed');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  private queueOf(hostName: string): Queue {
    let queue = this.queues.get(hostName);
    if (!queue) {
      queue = new Queue(hostQueueName(hostName), { connection: this.connection, prefix: this.prefix });
      this.queues.set(hostName, queue);
    }
    return queue;
  }
}
