import { randomUUID } from 'node:crypto';
import {
  deliveryEpochKey,
  deliveryId,
  FENCE_CLOSED,
  fenceKey,
  hostQueueName,
  resultAcksKey,
  type JobEnvelope,
} from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobDispatcher } from './job-dispatcher.js';

/**
 * An open job's fence outlives any lease and retry of it; it expires so that a job whose close was never written
 * (an api killed at that moment) does not keep a key for ever. A missing fence lets a delivery run (see the agent's
 * RedisDeliveryFence), and the api still applies only the current attempt's result.
 */
const OPEN_FENCE_TTL_SECONDS = 7 * 24 * 3600;
/** A closed fence only has to outlive the deliveries still queued or held when the job closed. */
const CLOSED_FENCE_TTL_SECONDS = 24 * 3600;
/** Acks are read within seconds by the agent's outbox; a day covers an agent that was down meanwhile. */
const ACKS_TTL_SECONDS = 24 * 3600;

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
      // Retries inside BullMQ cover an agent that could not check its fence or store its result; the Job row's
      // lease covers the rest.
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  async withdraw(hostName: string, jobId: string, attempts: number): Promise<void> {
    const queue = this.queueOf(hostName);
    // remove() leaves a delivery an agent holds (locked) alone: its fence (closed) keeps it off the disk.
    for (let attempt = 1; attempt <= attempts; attempt++) await queue.remove(deliveryId(jobId, attempt));
  }

  async pendingDeliveries(hostName: string): Promise<number> {
    const counts = await this.queueOf(hostName).getJobCounts('waiting', 'active', 'delayed');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async fence(jobId: string, attempt: number): Promise<void> {
    await this.connection.set(fenceKey(this.prefix, jobId), String(attempt), 'EX', OPEN_FENCE_TTL_SECONDS);
  }

  async closeFence(jobId: string): Promise<void> {
    await this.connection.set(fenceKey(this.prefix, jobId), FENCE_CLOSED, 'EX', CLOSED_FENCE_TTL_SECONDS);
  }

  async acknowledge(hostName: string, resultIds: readonly string[]): Promise<void> {
    if (resultIds.length === 0) return;
    const key = resultAcksKey(this.prefix, hostName);
    await this.connection
      .multi()
      .sadd(key, ...resultIds)
      .expire(key, ACKS_TTL_SECONDS)
      .exec();
  }

  /**
   * The epoch key is set once and never expires: finding it missing means Redis lost its data (restarted
   * without its AOF, flushed). The first start of a deployment finds it missing too, which costs one re-send of
   * its PENDING jobs (a new attempt each, the old ones fenced off).
   */
  async deliveriesLost(): Promise<boolean> {
    return (await this.connection.set(deliveryEpochKey(this.prefix), randomUUID(), 'NX')) === 'OK';
  }

  onReconnect(listener: () => void): void {
    this.connection.on('ready', listener);
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
