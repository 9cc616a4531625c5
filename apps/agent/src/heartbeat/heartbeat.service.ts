import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { AGENT_EVENTS_QUEUE, type AgentEventKind, type AgentHeartbeat } from '@snapdeck/contracts';
import { Queue } from 'bullmq';
import { Clock } from '../clock.js';
import { describeError } from '../jobs/error-message.js';
import { RunningJobs } from '../jobs/running-jobs.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { HEARTBEAT_JOB_OPTIONS, heartbeatMessage } from './heartbeat-message.js';

/** Tells the api this host is alive: once at start-up (which registers the host), then every few seconds. */
@Injectable()
export class HeartbeatService {
  private readonly logger = new Logger(HeartbeatService.name);
  private queue?: Queue<AgentHeartbeat, void, AgentEventKind>;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;

  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
    private readonly clock: Clock,
    private readonly running: RunningJobs,
  ) {}

  /** Resolves after the first heartbeat is stored, and rejects if it cannot be: an agent nobody can see is not up. */
  async start(): Promise<void> {
    const queue = new Queue<AgentHeartbeat, void, AgentEventKind>(AGENT_EVENTS_QUEUE, {
      connection: this.connections.producer,
      prefix: this.config.QUEUE_PREFIX,
    });
    queue.on('error', (error) => this.logger.warn(`Agent events queue: ${describeError(error)}`));
    this.queue = queue;
    try {
      await this.send(queue);
    } catch (error) {
      throw new Error(`Could not send the first heartbeat to Redis: ${describeError(error)}`);
    }
    this.timer = setInterval(() => this.tick(), this.config.AGENT_HEARTBEAT_SECONDS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }

  /** A slow Redis must not pile heartbeats up: a tick is skipped while the previous one is still out. */
  private tick(): void {
    const queue = this.queue;
    if (!queue || this.inFlight) return;
    this.inFlight = this.send(queue)
      .catch((error: unknown) => this.logger.warn(`Heartbeat not sent: ${describeError(error)}`))
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  private async send(queue: Queue<AgentHeartbeat, void, AgentEventKind>): Promise<void> {
    const message = heartbeatMessage(this.config, this.clock.now(), this.running.list());
    await queue.add(message.kind, message, HEARTBEAT_JOB_OPTIONS);
  }
}
