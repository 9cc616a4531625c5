import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { Clock } from '../clock.js';
import { describeError } from '../jobs/error-message.js';
import { RunningJobs } from '../jobs/running-jobs.js';
import { AgentEventSink, JobSource } from '../transport/transport-ports.js';
import { heartbeatMessage } from './heartbeat-message.js';
import { probeStorage } from './storage-probe.js';

/** A heartbeat names this many held deliveries at most: a bounded read of the host queue, a bounded message. */
const MAX_HELD = 500;

/**
 * Tells the api this host is alive: once at start-up (which registers the host), then every few seconds. Each
 * heartbeat names every delivery the agent holds, running or waiting in its host queue, so that the api keeps the
 * leases of queued jobs alive too (a busy host's queue is not re-sent behind its back).
 */
@Injectable()
export class HeartbeatService {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private started = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly sink: AgentEventSink,
    private readonly clock: Clock,
    private readonly running: RunningJobs,
    private readonly jobs: JobSource,
  ) {}

  /** Resolves after the first heartbeat is stored, and rejects if it cannot be: an agent nobody can see is not up. */
  async start(): Promise<void> {
    await this.sink.start();
    this.started = true;
    try {
      await this.send();
    } catch (error) {
      throw new Error(`Could not send the first heartbeat: ${describeError(error)}`);
    }
    this.timer = setInterval(() => this.tick(), this.config.AGENT_HEARTBEAT_SECONDS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (!this.started) return;
    this.started = false;
    await this.sink.close();
  }

  /** A slow api or Redis must not pile heartbeats up: a tick is skipped while the previous one is still out. */
  private tick(): void {
    if (!this.started || this.inFlight) return;
    this.inFlight = this.send()
      .catch((error: unknown) => this.logger.warn(`Heartbeat not sent: ${describeError(error)}`))
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  private async send(): Promise<void> {
    const storage = await probeStorage(this.config);
    if (!storage) this.logger.warn(`Cannot read the storage of ${this.config.AGENT_STORAGE_DIR}: not reported`);
    const running = this.running.held();
    const held = [...running, ...(await this.waiting(MAX_HELD - running.length))];
    await this.sink.send(heartbeatMessage(this.config, this.clock.now(), this.running.list(), storage, held));
  }

  /** A queue that cannot be read costs the waiting ones one renewal, not the heartbeat. */
  private async waiting(limit: number) {
    try {
      return await this.jobs.waitingDeliveries(limit);
    } catch (error) {
      this.logger.warn(`Cannot list the deliveries waiting in the host queue: ${describeError(error)}`);
      return [];
    }
  }
}
