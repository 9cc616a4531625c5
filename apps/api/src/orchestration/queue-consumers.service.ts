import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  AGENT_EVENTS_QUEUE,
  AgentEventKind,
  RESULTS_QUEUE,
  ResultKind,
  type AgentHeartbeat,
  type ResultMessage,
} from '@snapdeck/contracts';
import { Database } from '@snapdeck/persistence';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobResultsService } from './job-results.service.js';
import { REDIS_CONNECTION } from './tokens.js';

/** Consumes what agents send: job results and heartbeats (a host is registered by its first heartbeat). */
@Injectable()
export class QueueConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueConsumers.name);
  private workers: Worker[] = [];

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(REDIS_CONNECTION) private readonly connection: Redis,
    private readonly db: Database,
    private readonly results: JobResultsService,
  ) {}

  onApplicationBootstrap(): void {
    const options = { connection: this.connection, prefix: this.config.QUEUE_PREFIX };
    this.workers = [
      new Worker<ResultMessage>(RESULTS_QUEUE, (job) => this.onResult(job), { ...options, concurrency: 8 }),
      new Worker<AgentHeartbeat>(AGENT_EVENTS_QUEUE, (job) => this.onAgentEvent(job), { ...options, concurrency: 4 }),
    ];
    for (const worker of this.workers) {
      worker.on('failed', (job, error) =>
        this.logger.warn(`${worker.name} message ${job?.id} failed: ${error.message}`),
      );
      worker.on('error', (error) => this.logger.error(`${worker.name}: ${error.message}`));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private async onResult(job: Job<ResultMessage>): Promise<void> {
    const message = job.data;
    switch (message.kind) {
      case ResultKind.STARTED:
        await this.results.started(message);
        return;
      case ResultKind.FINISHED:
        await this.results.finished(message);
        return;
    }
  }

  private async onAgentEvent(job: Job<AgentHeartbeat>): Promise<void> {
    const beat = job.data;
    if (beat.kind !== AgentEventKind.HEARTBEAT) return;
    const host = await this.db.repos.hosts.recordHeartbeat({
      hostName: beat.hostName,
      driver: beat.driver,
      agentVersion: beat.agentVersion,
      at: new Date(beat.at),
    });
    const lease = new Date(Date.now() + this.config.JOB_LEASE_SECONDS * 1000);
    await this.db.repos.jobs.renewLeases(host.id, beat.runningJobIds ?? [], lease);
  }
}
