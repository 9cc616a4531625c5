import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { RESULTS_QUEUE, ResultKind, resultAcksKey, resultId, type ResultMessage } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import { describeError } from '../jobs/error-message.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RESULT_JOB_OPTIONS } from './result-messages.js';
import { ResultOutbox } from './result-outbox.js';
import { ResultSink } from './result-sink.js';

/**
 * A result unacknowledged for this long is dropped: by then its job's lease has long decided (re-sent or failed),
 * and an api too old to acknowledge (an agent upgraded first) must not keep it published for ever.
 */
const OUTBOX_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Adds result messages to RESULTS_QUEUE, named by their kind, for the api to apply. A FINISHED result is first
 * kept in the outbox (fsync'ed) and stays there until the api acknowledged it in this host's acks set; every
 * AGENT_RESULT_RESEND_SECONDS, and at start-up, what is still unacknowledged is published again. Publishing
 * again is cheap and safe: the queue job's id is the result's id (an add while a copy is queued is a no-op),
 * and the api closes a job exactly once.
 */
@Injectable()
export class ResultPublisher extends ResultSink {
  private readonly logger = new Logger(ResultPublisher.name);
  private readonly outbox: ResultOutbox;
  private queue?: Queue<ResultMessage, void, ResultKind>;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
  ) {
    super();
    this.outbox = new ResultOutbox(config.AGENT_STORAGE_DIR);
  }

  async start(): Promise<void> {
    await this.outbox.open();
    const queue = new Queue<ResultMessage, void, ResultKind>(RESULTS_QUEUE, {
      connection: this.connections.producer,
      prefix: this.config.QUEUE_PREFIX,
    });
    queue.on('error', (error) => this.logger.warn(`Results queue: ${describeError(error)}`));
    this.queue = queue;
    await queue.waitUntilReady();
    // What an earlier run of this agent left unacknowledged goes out again now.
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.AGENT_RESULT_RESEND_SECONDS * 1000);
  }

  /** FINISHED: resolves once it is in the outbox (published or not); STARTED: once it is published. */
  async publish(message: ResultMessage): Promise<void> {
    if (!this.queue) throw new Error('The result publisher is not started');
    if (message.kind === ResultKind.STARTED) return this.add(message);
    await this.outbox.put(message);
    try {
      await this.add(message);
    } catch (error) {
      this.logger.warn(`Job ${message.jobId}: its result is kept and published again (${describeError(error)})`);
    }
  }

  /** One outbox pass; a pass still running when the next is due is not doubled. */
  tick(): Promise<void> {
    this.flushing ??= this.flush()
      .catch((error: unknown) => this.logger.warn(`Result outbox: ${describeError(error)}`))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }

  /** Drops what the api acknowledged, publishes the rest again. */
  private async flush(): Promise<void> {
    const kept = await this.outbox.list();
    if (kept.length === 0 || !this.queue) return;
    const redis = this.connections.producer;
    const key = resultAcksKey(this.config.QUEUE_PREFIX, this.config.AGENT_HOST_NAME);
    const ids = kept.map((message) => resultId(message));
    const acked = await redis.smismember(key, ...ids);
    const done: string[] = [];
    for (const [i, message] of kept.entries()) {
      if (acked[i] === 1) {
        await this.outbox.remove(ids[i]);
        done.push(ids[i]);
      } else if (Date.now() - Date.parse(message.at) > OUTBOX_MAX_AGE_MS) {
        this.logger.warn(`Job ${message.jobId}: its result was never acknowledged since ${message.at}; dropped`);
        await this.outbox.remove(ids[i]);
      } else {
        await this.add(message);
      }
    }
    if (done.length > 0) await redis.srem(key, ...done);
  }

  private async add(message: ResultMessage): Promise<void> {
    if (!this.queue) throw new Error('The result publisher is closed');
    await this.queue.add(message.kind, message, { ...RESULT_JOB_OPTIONS, jobId: resultId(message) });
  }
}
