import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { AGENT_EVENTS_QUEUE, type AgentEvent, AgentEventKind } from '@snapdeck/contracts';
import { type JobsOptions, Queue } from 'bullmq';
import { HEARTBEAT_JOB_OPTIONS } from '../heartbeat/heartbeat-message.js';
import { describeError } from '../jobs/error-message.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { AgentEventSink } from './transport-ports.js';

/**
 * An image event is sent once, at start-up, and the volume's state depends on it: retried by BullMQ if the
 * api fails to apply it (a database blip), unlike a heartbeat, which the next one replaces.
 */
export const IMAGE_EVENT_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
};

/** Cluster: agent events are added to the agent-events queue that the api consumes. */
@Injectable()
export class QueueAgentEventSink extends AgentEventSink {
  private readonly logger = new Logger(QueueAgentEventSink.name);
  private queue?: Queue<AgentEvent, void, AgentEventKind>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
  ) {
    super();
  }

  start(): Promise<void> {
    const queue = new Queue<AgentEvent, void, AgentEventKind>(AGENT_EVENTS_QUEUE, {
      connection: this.connections.producer,
      prefix: this.config.QUEUE_PREFIX,
    });
    queue.on('error', (error) => this.logger.warn(`Agent events queue: ${describeError(error)}`));
    this.queue = queue;
    return Promise.resolve();
  }

  async send(event: AgentEvent): Promise<void> {
    if (!this.queue) throw new Error('The agent events queue is closed');
    const options = event.kind === AgentEventKind.HEARTBEAT ? HEARTBEAT_JOB_OPTIONS : IMAGE_EVENT_JOB_OPTIONS;
    await this.queue.add(event.kind, event, options);
  }

  async close(): Promise<void> {
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }
}
