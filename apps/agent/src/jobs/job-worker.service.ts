import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { hostQueueName, type HeldDelivery } from '@snapdeck/contracts';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { RedisConnections } from '../redis/redis-connections.js';
import { JobSource } from '../transport/transport-ports.js';
import { describeError } from './error-message.js';
import { JobRunner, MalformedDeliveryError } from './job-runner.js';

/**
 * How BullMQ finds a delivery whose agent died (kill -9) or froze: its lock lives LOCK_MS and is renewed every
 * lockRenewTime (lockDuration / 2 by default, so every 5 s) for as long as the handler runs and the event loop
 * turns, however long the handler takes; a lock that lapsed is found by the stall check every STALLED_CHECK_MS
 * and the delivery goes back to waiting. So a restarted agent takes its crashed delivery again within ~15 s,
 * instead of BullMQ's defaults (30 s lock, 30 s check: 30-77 s measured). A second stall is tolerated (the
 * delivery is idempotent and fenced by attempt); a third fails it and the Job row's lease decides.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
const MAX_STALLS = 2;

/** Consumes this host's queue, and only it, with AGENT_CONCURRENCY jobs at once. */
@Injectable()
export class JobWorker extends JobSource {
  private readonly logger = new Logger(JobWorker.name);
  private worker?: Worker<unknown, void, string>;
  /** Reads what waits in the host queue, for heartbeats. */
  private queue?: Queue;
  private running?: Promise<void>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
    private readonly runner: JobRunner,
  ) {
    super();
  }

  get queueName(): string {
    return hostQueueName(this.config.AGENT_HOST_NAME);
  }

  async start(): Promise<void> {
    const worker = new Worker<unknown, void, string>(this.queueName, (job) => this.process(job), {
      connection: this.connections.worker,
      prefix: this.config.QUEUE_PREFIX,
      concurrency: this.config.AGENT_CONCURRENCY,
      autorun: false,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLS,
    });
    this.queue = new Queue(this.queueName, { connection: this.connections.producer, prefix: this.config.QUEUE_PREFIX });
    this.queue.on('error', (error) => this.logger.warn(`Host queue reader: ${describeError(error)}`));
    worker.on('error', (error) => this.logger.warn(`Host queue: ${describeError(error)}`));
    worker.on('failed', (job, error) =>
      this.logger.warn(`Delivery ${job?.id ?? '?'} failed and is left to the queue: ${describeError(error)}`),
    );
    this.worker = worker;
    // run() settles when the worker closes; a crash of its loop is logged rather than left unhandled.
    this.running = worker.run().catch((error: unknown) => {
      this.logger.error(`The host queue worker stopped: ${describeError(error)}`);
    });
    await worker.waitUntilReady();
  }

  /** Stops taking jobs and waits for the ones running to finish and report, so none is left half-done. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    await worker.close();
    await this.running;
    await this.queue?.close();
    this.queue = undefined;
  }

  /**
   * The deliveries waiting, prioritized or delayed (retry back-off) in this host's queue: a bounded read of ids
   * only (the api names each `<jobId>.<attempt>`), no job data.
   */
  async waitingDeliveries(limit: number): Promise<HeldDelivery[]> {
    if (!this.queue || limit <= 0) return [];
    const ids = await this.queue.getRanges(['waiting', 'prioritized', 'delayed'], 0, limit - 1);
    return ids.flatMap((id) => parseDeliveryId(id) ?? []).slice(0, limit);
  }

  private async process(job: Job<unknown, void, string>): Promise<void> {
    try {
      await this.runner.run({ id: job.id, name: job.name, data: job.data });
    } catch (error) {
      // Retrying a job that cannot even be read would only fail again.
      if (error instanceof MalformedDeliveryError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }
}

/** `<jobId>.<attempt>` (contracts' deliveryId) back into its parts; null for an id the api did not make. */
function parseDeliveryId(id: string): HeldDelivery | null {
  const dot = id.lastIndexOf('.');
  const attempt = Number(id.slice(dot + 1));
  return dot > 0 && Number.isSafeInteger(attempt) && attempt > 0 ? { jobId: id.slice(0, dot), attempt } : null;
}
