import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { JobFinishedMessage, JobName, JobOutcome, JobStartedMessage } from '@snapdeck/contracts';
import { JobStatus } from '@snapdeck/domain';
import { Database, type JobEntity, type Repositories } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { jobLogFields } from '../logging/job-log-fields.js';
import { ApiMetrics } from '../metrics/api-metrics.js';
import { ChangeFeed, type AfterCommit } from '../subscriptions/change-feed.service.js';
import { JOB_OUTCOME_APPLIERS, type FollowUpJob, type JobOutcomeApplier } from './appliers/index.js';
import { withoutForeignIds } from './foreign-ids.js';
import { JobLauncher } from './job-launcher.service.js';
import { openLateCreateCleanup } from './late-create-cleanup.js';

/**
 * Applies what agents report. Each outcome closes its Job row and moves its resources in one transaction;
 * a repeated or late report finds the row closed and changes nothing.
 */
@Injectable()
export class JobResultsService {
  private readonly logger = new Logger(JobResultsService.name);

  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly launcher: JobLauncher,
    // Optional so the orchestration can run without the metrics module (as its integration test does).
    @Optional() private readonly metrics?: ApiMetrics,
    @Optional() private readonly feed?: ChangeFeed,
  ) {}

  async started(message: JobStartedMessage): Promise<void> {
    const lease = new Date(Date.now() + this.config.JOB_LEASE_SECONDS * 1000);
    if (await this.db.repos.jobs.markRunning(message.jobId, message.attempt, lease, new Date(message.at)))
      await this.feed?.jobChanged(message.jobId);
    this.logger.debug({
      msg: `job ${message.jobId} attempt ${message.attempt} started on ${message.hostName}`,
      jobId: message.jobId,
      attempt: message.attempt,
      host: message.hostName,
    });
  }

  /**
   * Applies the result of the job's current attempt only. A result of an attempt that was re-sent since, or of a
   * job already failed (the reconciler gave up on it) or finished otherwise, is recorded (a log line and a
   * `job.late_result` event) and never applied. If it reports a create that succeeded, its tag is on disk for a
   * row that is ERROR: REPAIR_STORAGE removes it at once (late-create-cleanup.ts), and the storage audit finds such
   * a tag (its row ERROR or absent) as an orphan should that job be lost.
   * A repeat of the result that closed the job (the agent's outbox publishing again) changes nothing, quietly.
   */
  finished(message: JobFinishedMessage): Promise<boolean> {
    return this.close(message.jobId, message.outcome, message.attempt);
  }

  /** Closes a job as failed, whatever its attempt: the reconciler's way out for work no agent will finish. */
  fail(jobId: string, reason: string): Promise<boolean> {
    return this.close(jobId, { ok: false, message: reason }, null);
  }

  private async close(jobId: string, outcome: JobOutcome, attempt: number | null): Promise<boolean> {
    let closed: (() => void) | undefined;
    let publish: AfterCommit | undefined;
    let closedJob: JobEntity | undefined;
    let late: JobEntity | undefined;
    let cleanup = null as FollowUpJob | null; // set inside the transaction (TypeScript cannot see it)
    const followUps = await this.db.transaction(async (tx): Promise<FollowUpJob[] | null> => {
      const job = await tx.jobs.findForOrchestration(jobId);
      if (!job) return null;
      if (attempt !== null && !isCurrentResult(job, attempt)) {
        if (!isRepeat(job, attempt, outcome)) {
          late = job;
          await recordLateResult(tx, job, attempt, outcome);
          cleanup = await openLateCreateCleanup(tx, job, outcome);
        }
        return null;
      }
      const status = outcome.ok ? JobStatus.SUCCEEDED : JobStatus.FAILED;
      const result = outcome.ok ? (outcome.data as unknown as Record<string, unknown>) : null;
      // What the job's organization reads (the row's error, the appliers' events) names none of another's ids.
      const reported: JobOutcome = outcome.ok
        ? outcome
        : { ...outcome, message: await withoutForeignIds(tx, job.organizationId, outcome.message) };
      const error = reported.ok ? null : reported.message;
      const finishedAt = new Date();
      if (!(await tx.jobs.finish(job.id, status, result, error, finishedAt, attempt))) return null;
      closed = () => this.metrics?.observeJob(job.type, status, job.createdAt, finishedAt);
      publish = await this.feed?.beforeJobCloses(tx, job);
      closedJob = job;
      const applier = JOB_OUTCOME_APPLIERS[job.type] as JobOutcomeApplier<JobName>;
      return (await applier.apply(tx, job, reported)) ?? [];
    });
    if (late) this.logLateResult(late, attempt!, outcome);
    // A committed row: if this send fails, the reconciler sends it.
    if (cleanup) await this.launcher.launch(cleanup.job, cleanup.hostName);
    if (followUps === null) return false;
    // No delivery of a closed job may run any more (a re-sent copy still queued, an agent that was frozen).
    await this.launcher.closeFence(jobId);
    closed?.(); // after the commit: a rolled-back close is not a finished job
    await publish?.();
    const line = {
      msg: `job ${jobId} ${outcome.ok ? 'succeeded' : `failed: ${outcome.message}`}`,
      ...(closedJob ? jobLogFields(closedJob) : { jobId }),
      status: outcome.ok ? JobStatus.SUCCEEDED : JobStatus.FAILED,
    };
    if (outcome.ok) this.logger.log(line);
    else this.logger.warn(line);
    // The next steps are committed rows: if a send fails here, the reconciler sends them.
    for (const next of followUps) await this.launcher.launch(next.job, next.hostName);
    return true;
  }

  private logLateResult(job: JobEntity, attempt: number, outcome: JobOutcome): void {
    this.logger.warn({
      msg:
        `job ${job.id}: late result of attempt ${attempt} not applied (the job is ${job.status} at attempt ` +
        `${job.attempt}); it ${outcome.ok ? 'succeeded' : `failed: ${outcome.message}`}`,
      ...jobLogFields(job),
      attempt,
      currentAttempt: job.attempt,
    });
  }
}

/** The result answers the job's current attempt, and the job is still open. */
function isCurrentResult(job: JobEntity, attempt: number): boolean {
  return job.attempt === attempt && OPEN.includes(job.status);
}

/** The same result again (a duplicate delivery, the outbox publishing once more) after it closed the job. */
function isRepeat(job: JobEntity, attempt: number, outcome: JobOutcome): boolean {
  if (job.attempt !== attempt || OPEN.includes(job.status)) return false;
  return outcome.ok === (job.status === JobStatus.SUCCEEDED);
}

const OPEN: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.RUNNING];

async function recordLateResult(tx: Repositories, job: JobEntity, attempt: number, outcome: JobOutcome) {
  await tx.events.record({
    organizationId: job.organizationId,
    actorUserId: null,
    type: 'job.late_result',
    resourceType: job.resourceType,
    resourceId: job.resourceId,
    message:
      `A late result of attempt ${attempt} (${outcome.ok ? 'succeeded' : 'failed'}) was not applied: ` +
      `the job is ${job.status} at attempt ${job.attempt}`,
    details: { jobId: job.id, attempt, currentAttempt: job.attempt, jobStatus: job.status, ok: outcome.ok },
  });
}
