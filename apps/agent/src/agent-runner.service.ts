import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { VolumeDriver } from './drivers/volume-driver.js';
import { HeartbeatService } from './heartbeat/heartbeat.service.js';
import { InterruptedImagesCheck } from './images/interrupted-images.service.js';
import { describeError } from './jobs/error-message.js';
import { ResultSink } from './results/result-sink.js';
import { JobSource, TransportConnections } from './transport/transport-ports.js';

export interface AgentStartOptions {
  /** How long start-up waits for Redis (cluster transport) before giving up. */
  redisTimeoutMs?: number;
}

const DEFAULT_REDIS_TIMEOUT_MS = 30_000;

/**
 * Starts and stops the agent's parts in one explicit order, which Nest's per-provider hooks do not promise.
 * Start: check the driver, check the images the last stop interrupted (before any job can touch them), check the
 * transport, open the results path, consume the host queue, announce the host, then report those images.
 * Stop: stop announcing, let running jobs finish and report, then close queues and connections.
 */
@Injectable()
export class AgentRunner implements OnModuleDestroy {
  private readonly logger = new Logger(AgentRunner.name);

  constructor(
    private readonly driver: VolumeDriver,
    private readonly results: ResultSink,
    private readonly jobs: JobSource,
    private readonly heartbeat: HeartbeatService,
    private readonly connections: TransportConnections,
    private readonly interrupted: InterruptedImagesCheck,
  ) {}

  async start(options: AgentStartOptions = {}): Promise<void> {
    await this.driver.init();
    const imageEvents = await this.interrupted.check();
    await this.connections.waitUntilReachable(options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS);
    await this.results.start();
    await this.jobs.start();
    await this.heartbeat.start();
    await this.interrupted.report(imageEvents);
  }

  /** Runs on app.close(), programmatic or on SIGTERM/SIGINT; safe after a partial start. */
  async onModuleDestroy(): Promise<void> {
    await this.step('stop the heartbeat', () => this.heartbeat.stop());
    await this.step('drain the host queue worker', () => this.jobs.close());
    await this.step('close the results queue', () => this.results.close());
    await this.step('close the transport connections', () => this.connections.close());
    this.logger.log('Agent stopped');
  }

  /** One failed step must not keep the others from releasing what they hold. */
  private async step(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.logger.error(`Could not ${what}: ${describeError(error)}`);
    }
  }
}
