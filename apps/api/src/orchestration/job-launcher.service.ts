import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { JobEnvelope } from '@snapdeck/contracts';
import { Database, type JobEntity, type Repositories } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ChangeFeed } from '../subscriptions/change-feed.service.js';
import { jobLogFields } from '../logging/job-log-fields.js';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher.js';

/**
 * Sends a committed Job row to its host. The row is claimed first (attempt + 1, a short send-claim lease), fenced,
 * sent, then marked sent with its lease: a crash between commit and send is found by the reconciler within
 * seconds, a lost message when the lease runs out.
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

  /**
   * Delivers the next attempt if nobody else delivered or finished the job meanwhile. The claim (attempt + 1)
   * holds only a short send-claim lease: the job's lease starts once the send succeeded (markSent), so an api
   * that dies between the two leaves the job to the reconciler within seconds. Two replicas never both send one
   * attempt: only one claim of `expectedAttempt` succeeds.
   */
  async deliver(job: JobEntity, hostName: string, expectedAttempt: number, now = new Date()): Promise<boolean> {
    const attempt = await this.db.repos.jobs.beginDelivery(job.id, this.claimLease(now), expectedAttempt);
    if (attempt === null) return false;
    await this.feed?.jobChanged(job.id);
    await this.send(job, hostName, attempt, now);
    return true;
  }

  /**
   * Sends again an attempt that was claimed but never sent, under the same attempt (see reclaimUnsent), once its
   * claim lapsed before `lapsedBefore`.
   */
  async resendUnsent(job: JobEntity, hostName: string, now = new Date(), lapsedBefore = now): Promise<boolean> {
    const attempt = await this.db.repos.jobs.reclaimUnsent(job.id, job.attempt, this.claimLease(now), lapsedBefore);
    if (attempt === null) return false;
    await this.send(job, hostName, attempt, now);
    return true;
  }

  private async send(job: JobEntity, hostName: string, attempt: number, now: Date): Promise<void> {
    const envelope = { jobId: job.id, attempt, name: job.type, payload: job.payload } as JobEnvelope;
    const fields = { ...jobLogFields(job), attempt, host: hostName };
    try {
      // Fenced before it is sent: from here on, an older delivery an agent still holds is stale and is not run.
      await this.dispatcher.fence(job.id, attempt);
      await this.dispatcher.send(hostName, envelope);
    } catch (error) {
      // The claim lapses within JOB_SEND_CLAIM_SECONDS and the reconciler sends this attempt again.
      const msg = `job ${job.id} could not be sent to ${hostName}, will retry: ${(error as Error).message}`;
      this.logger.warn({ msg, ...fields });
      return;
    }
    // Inside a mutation this line also carries the request's reqId: request → job.
    this.logger.log({ msg: `job ${job.id} (${job.type}) attempt ${attempt} sent to ${hostName}`, ...fields });
    try {
      await this.db.repos.jobs.markSent(job.id, attempt, this.lease(now), new Date());
    } catch (error) {
      // Sent all the same: the reconciler's re-send of this attempt is a no-op add of the same delivery id.
      this.logger.warn({ msg: `job ${job.id} sent but not marked sent: ${(error as Error).message}`, ...fields });
    }
  }

  /**
   * Leases count from the caller's clock when it is ahead: the reconciler that found the job lapsed at `now` must
   * not find this new delivery lapsed in the same pass.
   */
  private lease(now: Date): Date {
    return new Date(Math.max(now.getTime(), Date.now()) + this.config.JOB_LEASE_SECONDS * 1000);
  }

  private claimLease(now: Date): Date {
    return new Date(Math.max(now.getTime(), Date.now()) + this.config.JOB_SEND_CLAIM_SECONDS * 1000);
  }

  /** Writes the fence of an open job again (the transport lost it), naming its current attempt. */
  async refence(job: JobEntity): Promise<void> {
    try {
      await this.dispatcher.fence(job.id, job.attempt);
    } catch (error) {
      this.logger.warn({
        msg: `job ${job.id}: its fence could not be written: ${(error as Error).message}`,
        jobId: job.id,
      });
    }
  }

  /** Whether the transport lost its data since the last call (see JobDispatcher.deliveriesLost). */
  transportLost(): Promise<boolean> {
    return this.dispatcher.deliveriesLost();
  }

  onTransportReconnect(listener: () => void): void {
    this.dispatcher.onReconnect(listener);
  }

  /** After a job closed: no delivery of it may run any more (a re-sent copy still queued, a frozen agent's). */
  async closeFence(jobId: string): Promise<void> {
    try {
      await this.dispatcher.closeFence(jobId);
    } catch (error) {
      // The fence then still names the last attempt: a copy of it may run, and its result is not applied.
      this.logger.warn({ msg: `job ${jobId}: its fence could not be closed: ${(error as Error).message}`, jobId });
    }
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
