import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { RESULTS_QUEUE, type ResultKind, type ResultMessage } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import { describeError } from '../jobs/error-message.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RESULT_JOB_OPTIONS } from './result-messages.js';
import { ResultSink } from './result-sink.js';

/** Adds result messages to RESULTS_QUEUE, named by their kind, for the api to apply. */
@Injectable()
export class ResultPublisher extends ResultSink {
  private readonly logger = new Logger(ResultPublisher.name);
  private queue?: Queue<ResultMessage, void, ResultKind>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
  ) {
    super();
  }

  async start(): Promise<void> {
    const queue = new Queue<ResultMessage, void, ResultKind>(RESULTS_QUEUE, {
      connection: this.connections.producer,
      prefix: this.config.QUEUE_PREFIX,
    });
    queue.on('error', (error) => this.logger.warn(`Results queue: ${describeError(error)}`));
    this.queue = queue;
    await queue.waitUntilReady();
  }

  async publish(message: ResultMessage): Promise<void> {
    if (!this.queue) throw new Error('The result publisher is not started');
    await this.queue.add(message.kind, message, RESULT_JOB_OPTIONS);
  }

  async close(): Promise<void> {
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }
}
