import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { AGENT_EVENTS_QUEUE, type AgentEventKind, type AgentHeartbeat } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import { describeError } from '../jobs/error-message.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { HeartbeatSink } from '../transport/transport-ports.js';
import { HEARTBEAT_JOB_OPTIONS } from './heartbeat-message.js';

/** Cluster: heartbeats are added to the agent-events queue that the api consumes. */
@Injectable()
export class QueueHeartbeatSink extends HeartbeatSink {
  private readonly logger = new Logger(QueueHeartbeatSink.name);
  private queue?: Queue<AgentHeartbeat, void, AgentEventKind>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
  ) {
    super();
  }

  start(): Promise<void> {
    const queue = new Queue<AgentHeartbeat, void, AgentEventKind>(AGENT_EVENTS_QUEUE, {
      connection: this.connections.producer,
      prefix: this.config.QUEUE_PREFIX,
    });
    queue.on('error', (error) => this.logger.warn(`Agent events queue: ${describeError(error)}`));
    this.queue = queue;
    return Promise.resolve();
  }

  async send(heartbeat: AgentHeartbeat): Promise<void> {
    if (!this.queue) throw new Error('The heartbeat queue is closed');
    await this.queue.add(heartbeat.kind, heartbeat, HEARTBEAT_JOB_OPTIONS);
  }

  async close(): Promise<void> {
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }
}
