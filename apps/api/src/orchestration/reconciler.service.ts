import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import { HostState, JobStatus } from '@snapdeck/domain';
import { Database, type JobEntity } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobLauncher } from './job-launcher.service.js';
import { JobResultsService } from './job-results.service.js';

const BATCH = 200;
/** Open jobs looked at after the transport lost its data: every one of them, within reason. */
const RECOVERY_BATCH = 5000;
/** The start-up pass re-sends claimed-but-unsent attempts whatever their claim says: none of ours is in flight. */
const FAR_FUTURE = new Date(8.64e15);

export interface ReconcileReport {
  hostsMarkedDown: number;
  redispatched: number;
  failed: number;
}

/**
 * Nothing stays "In progress" forever: at start-up and then periodically, hosts without heartbeats go DOWN,
 * and open jobs whose lease ran out are sent again (handlers are idempotent) or failed when their host is
 * down or they used up their attempts (CloudStack #8423/#8424: snapshots stuck after a restart).
 * Attempts claimed but never sent are sent again under the same attempt (at start-up at once); a transport that
 * lost its data (Redis restarted empty) has every PENDING job re-sent at once and every RUNNING one re-fenced.
 * Every step is a conditional update, so several api replicas may reconcile at once.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Reconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileReport>;
  private startedUp = false;

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    private readonly results: JobResultsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    // A Redis that comes back may have come back empty: look at once rather than at the next tick.
    this.launcher.onTransportReconnect(() => void this.tick());
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
    const count = (outcome: 'redispatched' | 'failed' | 'skipped') => {
      if (outcome === 'redispatched') report.redispatched++;
      if (outcome === 'failed') report.failed++;
    };
    // An unreachable Redis cannot say whether it lost anything: the next pass (or its reconnect) asks again.
    if (await this.launcher.transportLost().catch(() => false))
      report.redispatched += await this.recoverLostDeliveries(now);
    if (!this.startedUp) {
      for (const job of await this.db.repos.jobs.findUnsent(BATCH))
        count(await this.reconcileJob(job, now, FAR_FUTURE));
    }
    this.startedUp = true;
    for (const job of await this.db.repos.jobs.findLapsed(now, BATCH)) count(await this.reconcileJob(job, now, now));
    return report;
  }

  /**
   * Redis lost its data: queued deliveries, fences and acks are gone. A PENDING job's delivery may have been lost,
   * so it is sent again at once under a new attempt (which fences the old one off, should an agent hold it after
   * all). A RUNNING job is held by its agent: it is only re-fenced, and its result comes from the agent's outbox;
   * re-sending it would make its result (of the old attempt) one that is never applied.
   */
  private async recoverLostDeliveries(now: Date): Promise<number> {
    let resent = 0;
    const open = await this.db.repos.jobs.findOpen(RECOVERY_BATCH);
    this.logger.warn(`the transport lost its data: re-fencing ${open.length} open job(s), re-sending the PENDING ones`);
    for (const job of open) {
      const host = job.hostId ? await this.db.repos.hosts.findById(job.hostId) : null;
      // The lapse path below fails jobs of hosts that are gone or down.
      if (!host || host.state === HostState.DOWN) continue;
      if (job.status === JobStatus.RUNNING) await this.launcher.refence(job);
      else if (await this.launcher.deliver(job, host.name, job.attempt, now)) resent++;
    }
    return resent;
  }

  private async reconcileJob(
    job: JobEntity,
    now: Date,
    unsentLapsedBefore: Date,
  ): Promise<'redispatched' | 'failed' | 'skipped'> {
    const host = job.hostId ? await this.db.repos.hosts.findById(job.hostId) : null;
    if (!host) return (await this.results.fail(job.id, 'The host of this job no longer exists')) ? 'failed' : 'skipped';
    if (host.state === HostState.DOWN) {
      if (await this.waitForHost(job, now)) return 'skipped';
      const reason = `Host ${host.name} is down: no heartbeat since ${host.lastHeartbeatAt.toISOString()}`;
      return this.failAndWithdraw(job, host.name, reason);
    }
    if (job.status === JobStatus.PENDING && job.attempt > 0 && job.sentAt === null) {
      // Claimed but never sent: the same attempt again, which costs none of JOB_MAX_ATTEMPTS.
      const resent = await this.launcher.resendUnsent(job, host.name, now, unsentLapsedBefore);
      return resent ? 'redispatched' : 'skipped';
    }
    if (job.attempt >= this.config.JOB_MAX_ATTEMPTS) {
      return this.failAndWithdraw(job, host.name, `No result from host ${host.name} after ${job.attempt} attempt(s)`);
    }
    return (await this.launcher.deliver(job, host.name, job.attempt, now)) ? 'redispatched' : 'skipped';
  }

  /**
   * A repair (REPAIR_STORAGE: removing what a late result or an audit found on disk without a row) has no one
   * waiting for its answer, and failing it leaves the orphan on disk until the next periodic audit: it waits for
   * its host instead, looked at again after HOST_DOWN_AFTER_SECONDS, for at most one audit interval (after that
   * the periodic audit is the one that finds the orphan again). Every other job fails at once on a DOWN host, so
   * no user waits on a dead node.
   */
  private async waitForHost(job: JobEntity, now: Date): Promise<boolean> {
    if (job.type !== JobName.REPAIR_STORAGE) return false;
    const waitedMs = now.getTime() - job.createdAt.getTime();
    if (waitedMs > this.config.STORAGE_AUDIT_INTERVAL_MINUTES * 60_000) return false;
    const until = new Date(now.getTime() + this.config.HOST_DOWN_AFTER_SECONDS * 1000);
    return this.db.repos.jobs.postponeLease(job.id, until);
  }

  private async failAndWithdraw(job: JobEntity, hostName: string, reason: string): Promise<'failed' | 'skipped'> {
    if (!(await this.results.fail(job.id, reason))) return 'skipped';
    await this.launcher.withdraw(job, hostName);
    return 'failed';
  }
}
