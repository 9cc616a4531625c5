import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobName } from '@snapdeck/contracts';
import { HostState, JobStatus, SnapshotState } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { allHostNames } from '../hosts/host-names.js';
import { JOB_DISPATCHER, type JobDispatcher } from '../orchestration/job-dispatcher.js';

/** The counts of a storage audit and the `kind` label each has in snapdeck_storage_audit_findings. */
const STORAGE_FINDING_KINDS = [
  ['orphanTags', 'orphan_tags'],
  ['missingSnapshots', 'missing_snapshots'],
  ['missingVolumes', 'missing_volumes'],
  ['orphanFiles', 'orphan_files'],
  ['damagedImages', 'damaged_images'],
] as const;

/** GraphQL outcome label: whether the response carried errors. */
export type GraphqlOutcome = 'success' | 'error';

/**
 * The api's Prometheus metrics, on a registry this app owns (not prom-client's global one), so two apps in one
 * process — as in the tests — keep separate series. Counters and histograms are fed as things happen; the
 * gauges of hosts, snapshots and queue depth are computed when Prometheus scrapes.
 */
@Injectable()
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger(ApiMetrics.name);

  private readonly graphqlDuration = new Histogram({
    name: 'snapdeck_graphql_request_duration_seconds',
    help: 'GraphQL requests, from receipt to response, by root field(s) of the operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'snapdeck_job_duration_seconds',
    help: 'Jobs from creation to their final status, by job type and status.',
    labelNames: ['type', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  private readonly notificationAttempts = new Counter({
    name: 'snapdeck_notification_attempts_total',
    help: 'Attempts to send a notification, by channel (webhook, email) and outcome (succeeded, retry, failed, skipped).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly db: Database,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'snapdeck_api_' });
    this.stateGauge('snapdeck_hosts', 'Hosts by state.', Object.values(HostState), () =>
      this.db.repos.hosts.countByState(),
    );
    this.stateGauge(
      'snapdeck_snapshots',
      'Snapshots by state, across every organization.',
      Object.values(SnapshotState),
      () => this.db.repos.snapshots.countByState(),
    );
    const queueDepth: Gauge<'host'> = new Gauge({
      name: 'snapdeck_queue_depth',
      help: "Deliveries waiting, active or delayed in each host's queue.",
      labelNames: ['host'] as const,
      registers: [this.registry],
      collect: async () => {
        queueDepth.reset();
        const depths = await this.guard('snapdeck_queue_depth', () => this.queueDepths());
        for (const [host, depth] of depths ?? []) queueDepth.set({ host }, depth);
      },
    });
  }

  /**
   * The findings of each host's latest finished storage audit, by kind: one row per host read at scrape time (the
   * audit counted them; nothing is counted here), so every replica answers the same.
   */
  private readonly storageFindings: Gauge<'host' | 'kind'> = new Gauge({
    name: 'snapdeck_storage_audit_findings',
    help: "Findings of each host's latest finished storage audit, by kind.",
    labelNames: ['host', 'kind'] as const,
    registers: [this.registry],
    collect: async () => {
      this.storageFindings.reset();
      const latest = await this.guard('snapdeck_storage_audit_findings', () =>
        this.db.repos.storageAudits.latestCountsPerHost(),
      );
      for (const { hostName, ...counts } of latest ?? []) {
        for (const [kind, label] of STORAGE_FINDING_KINDS)
          this.storageFindings.set({ host: hostName, kind: label }, counts[kind]);
      }
    },
  });

  observeGraphqlRequest(operation: string, outcome: GraphqlOutcome, seconds: number): void {
    this.graphqlDuration.observe({ operation, outcome }, seconds);
  }

  /** A job reached its final status: its whole life, queueing and retries included. */
  observeJob(type: JobName, status: JobStatus, createdAt: Date, finishedAt: Date): void {
    this.jobDuration.observe({ type, status }, Math.max(0, finishedAt.getTime() - createdAt.getTime()) / 1000);
  }

  /** One webhook or mail attempt settled: `retry` is a failure that will be tried again, `failed` the last one. */
  countNotificationAttempt(channel: 'webhook' | 'email', outcome: 'succeeded' | 'retry' | 'failed' | 'skipped'): void {
    this.notificationAttempts.inc({ channel, outcome });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** A gauge by state, read with one GROUP BY at scrape time; every state gets a series, zero when empty. */
  private stateGauge<S extends string>(
    name: string,
    help: string,
    states: readonly S[],
    read: () => Promise<Map<S, number>>,
  ): void {
    const gauge: Gauge<'state'> = new Gauge({
      name,
      help,
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: async () => {
        gauge.reset();
        const counts = await this.guard(name, read);
        if (!counts) return;
        for (const state of states) gauge.set({ state }, counts.get(state) ?? 0);
      },
    });
  }

  private async queueDepths(): Promise<Array<[string, number]>> {
    const names = await allHostNames(this.db.repos.hosts);
    return Promise.all(
      names.map(async (name): Promise<[string, number]> => [name, await this.dispatcher.pendingDeliveries(name)]),
    );
  }

  /** A gauge whose source is down is left empty (its absence alerts) rather than failing the whole scrape. */
  private async guard<T>(what: string, read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (error) {
      this.logger.warn(`metrics: could not read ${what}: ${(error as Error).message}`);
      return null;
    }
  }
}
