import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { JobEnvelope } from '@snapdeck/contracts';
import { Database, type JobEntity, type Repositories } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ChangeFeed } from '../subscriptions/change-feed.service.js';
import { jobLogFields } from '../logging/job-log-fields.js';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher.js';

/**
 * Sends a committed Job row to its host. The row is claimed first (attempt + 1, lease started), so a crash
 * between commit and send, or a lost message, is found by the reconciler when the lease runs out.
 */
@Injectable()
export class JobLauncher {
  private readonly logger = new Logger(JobLauncher.name);

  constructor(
    private readonly db: Database,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    // Optional so the orchestration can run without subscribers (as its integration tests do).
    @Optional() private readonly feed?: ChangeFeed,
  ) {}

  /**
   * The one way an operation sends work: `work` runs in a transaction, opens its Job row (openJob) and says
   * which host gets it; the job is sent only once that transaction has committed (a rolled-back operation
   * sends nothing). Answers the operation with its job as it is after the dispatch (see launch).
   *
   * Once the transaction has committed the operation happened, so nothing after it turns into an error for the
   * client: if the change feed, the claim, the send or the re-read fails (PostgreSQL or Redis gone for a moment),
   * the answer is the job as committed (PENDING) and the reconciler sends it (findLapsed takes a PENDING job
   * without a lease). An error here would make the client retry work that was done.
   */
  async commitThenLaunch<T extends { job: JobEntity }>(
    work: (tx: Repositories) => Promise<{ operation: T; hostName: string }>,
  ): Promise<T> {
    const { operation, hostName } = await this.db.transaction(work);
    try {
      return { ...operation, job: await this.launch(operation.job, hostName) };
    } catch (error) {
      this.logger.warn({
        msg: `job ${operation.job.id} committed but not launched, the reconciler sends it: ${(error as Error).message}`,
        ...jobLogFields(operation.job),
        host: hostName,
      });
      return operation;
    }
  }

  /**
   * Call after the transaction that created the job has committed. Returns the job as it is after the
   * dispatch (attempt 1, its lease), which is what the mutation answers.
   */
  async launch(job: JobEntity, hostName: string): Promise<JobEntity> {
    await this.feed?.jobOpened(job);
    await this.deliver(job, hostName, job.attempt);
    return (await this.db.repos.jobs.findForOrchestration(job.id)) ?? job;
  }

  /** Delivers the next attempt if nobody else delivered or finished the job meanwhile. */
  async deliver(job: JobEntity, hostName: string, expectedAttempt: number, now = new Date()): Promise<boolean> {
    // The lease counts from the caller's clock: the reconciler that found the job lapsed at `now` must not
    // find this new delivery lapsed in the same pass.
    const lease = new Date(now.getTime() + this.config.JOB_LEASE_SECONDS * 1000);
    const attempt = await this.db.repos.jobs.beginDelivery(job.id, lease, expectedAttempt);
    if (attempt === null) return false;
    await this.feed?.jobChanged(job.id);
    const envelope = { jobId: job.id, attempt, name: job.type, payload: job.payload } as JobEnvelope;
    try {
      await this.dispatcher.send(hostName, envelope);
      // Inside a mutation this line also carries the request's reqId: request → job.
      this.logger.log({
        msg: `job ${job.id} (${job.type}) attempt ${attempt} sent to ${hostName}`,
        ...jobLogFields(job),
        attempt,
        host: hostName,
      });
    } catch (error) {
      // The row keeps its lease: the reconciler sends it again when the lease runs out.
      this.logger.warn({
        msg: `job ${job.id} could not be sent to ${hostName}, will retry: ${(error as Error).message}`,
        ...jobLogFields(job),
        attempt,
        host: hostName,
      });
    }
    return true;
  }

  /** Best effort: a failed job's queued deliveries must not run when its host comes back. */
  async withdraw(job: JobEntity, hostName: string): Promise<void> {
    try {
      await this.dispatcher.withdraw(hostName, job.id, job.attempt);
    } catch (error) {
      this.logger.warn({
        msg: `queued deliveries of job ${job.id} could not be withdrawn: ${(error as Error).message}`,
        jobId: job.id,
        host: hostName,
      });
    }
  }
}
