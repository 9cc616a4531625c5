import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HostState } from '@snapdeck/domain';
import { Database, type JobEntity } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobLauncher } from './job-launcher.service.js';
import { JobResultsService } from './job-results.service.js';

const BATCH = 200;

export interface ReconcileReport {
  hostsMarkedDown: number;
  redispatched: number;
  failed: number;
}

/**
 * Nothing stays "In progress" forever: at start-up and then periodically, hosts without heartbeats go DOWN,
 * and open jobs whose lease ran out are sent again (handlers are idempotent) or failed when their host is
 * down or they used up their attempts (CloudStack #8423/#8424: snapshots stuck after a restart).
 * Every step is a conditional update, so several api replicas may reconcile at once.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Reconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileReport>;

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    private readonly results: JobResultsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share the pass in flight. */
  reconcileOnce(now = new Date()): Promise<ReconcileReport> {
    this.running ??= this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async tick(): Promise<void> {
    try {
      const report = await this.reconcileOnce();
      if (report.hostsMarkedDown + report.redispatched + report.failed > 0) {
        this.logger.log(
          `hosts down ${report.hostsMarkedDown}, jobs re-sent ${report.redispatched}, jobs failed ${report.failed}`,
        );
      }
    } catch (error) {
      this.logger.error(`reconcile pass failed: ${(error as Error).message}`);
    }
  }

  private async pass(now: Date): Promise<ReconcileReport> {
    const cutoff = new Date(now.getTime() - this.config.HOST_DOWN_AFTER_SECONDS * 1000);
    const down = await this.db.repos.hosts.markStaleHostsDown(cutoff);
    for (const host of down)
      this.logger.warn(`host ${host.name} is DOWN: no heartbeat since ${host.lastHeartbeatAt.toISOString()}`);
    const report: ReconcileReport = { hostsMarkedDown: down.length, redispatched: 0, failed: 0 };
    for (const job of await this.db.repos.jobs.findLapsed(now, BATCH)) {
      const outcome = await this.reconcileJob(job, now);
      if (outcome === 'redispatched') report.redispatched++;
      if (outcome === 'failed') report.failed++;
    }
    return report;
  }

  private async reconcileJob(job: JobEntity, now: Date): Promise<'redispatched' | 'failed' | 'skipped'> {
    const host = job.hostId ? await this.db.repos.hosts.findById(job.hostId) : null;
    if (!host) return (await this.results.fail(job.id, 'The host of this job no longer exists')) ? 'failed' : 'skipped';
    if (host.state === HostState.DOWN) {
      const reason = `Host ${host.name} is down: no heartbeat since ${host.lastHeartbeatAt.toISOString()}`;
      return this.failAndWithdraw(job, host.name, reason);
    }
    if (job.attempt >= this.config.JOB_MAX_ATTEMPTS) {
      return this.failAndWithdraw(job, host.name, `No result from host ${host.name} after ${job.attempt} attempt(s)`);
    }
    return (await this.launcher.deliver(job, host.name, job.attempt, now)) ? 'redispatched' : 'skipped';
  }

  private async failAndWithdraw(job: JobEntity, hostName: string, reason: string): Promise<'failed' | 'skipped'> {
    if (!(await this.results.fail(job.id, reason))) return 'skipped';
    await this.launcher.withdraw(job, hostName);
    return 'failed';
  }
}
