import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { hostQueueName } from '@snapdeck/contracts';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { RedisConnections } from '../redis/redis-connections.js';
import { JobSource } from '../transport/transport-ports.js';
import { describeError } from './error-message.js';
import { JobRunner, MalformedDeliveryError } from './job-runner.js';

/** Consumes this host's queue, and only it, with AGENT_CONCURRENCY jobs at once. */
@Injectable()
export class JobWorker extends JobSource {
  private readonly logger = new Logger(JobWorker.name);
  private worker?: Worker<unknown, void, string>;
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
    });
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
