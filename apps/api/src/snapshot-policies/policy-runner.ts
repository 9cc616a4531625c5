import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, notFound, policyRetryAt, PolicyRunState, PolicyRunStatus } from '@snapdeck/domain';
import {
  Database,
  eventSurvivingRollback,
  organizationScope,
  type PolicyRunEntity,
  type Repositories,
  type SnapshotPolicyEntity,
} from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';
import { beginSnapshot } from '../snapshots/begin-snapshot.js';
import { POLICY_CLOCK, type Clock } from './clock.js';
import { drainDue } from './drain-due.js';
import { dueOccurrences } from './due-occurrences.js';
import { instanceOfVolume, recordRunEvent } from './policy-run-events.js';
import { PolicySchedule } from './schedule.js';

/** Policies one transaction claims: small, so the first snapshots of a burst start while the rest are claimed. */
export const CLAIM_BATCH = 10;

/**
 * Runs the policies that are due. Each pass claims due rows with FOR UPDATE SKIP LOCKED (another replica's
 * pass, or another of this replica's POLICY_RUN_CONCURRENCY workers, takes the next ones, never the same), and in
 * the same transaction per policy: the run row (UNIQUE on policy and scheduled time: one per occurrence whatever
 * happens), the snapshot started through beginSnapshot (the createSnapshot path: auto-name, limits, one
 * operation per volume), the policy moved to its next occurrence. Jobs are sent once that commits. A refused
 * snapshot is SKIPPED (volume busy) or FAILED (quota, host down: a bounded retry before the next occurrence).
 */
@Injectable()
export class PolicyRunner {
  private readonly logger = new Logger(PolicyRunner.name);

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(POLICY_CLOCK) private readonly clock: Clock,
  ) {}

  /** Every policy due at `now`; answers how many policies it handled. */
  async runDue(now: Date = this.clock.now()): Promise<number> {
    const workers = Array.from({ length: this.config.POLICY_RUN_CONCURRENCY }, () => this.drain(now));
    return (await Promise.all(workers)).reduce((sum, n) => sum + n, 0);
  }

  /** Claims and runs batches until none is left due at `now`. */
  private drain(now: Date): Promise<number> {
    return drainDue(
      this.db,
      CLAIM_BATCH,
      (tx) => tx.snapshotPolicies.claimDue(now, CLAIM_BATCH),
      (tx, policy) => this.handleSafely(tx, policy, now),
      (job) => this.launch(job),
    );
  }

  private async launch({ job, hostName }: FollowUpJob): Promise<void> {
    try {
      await this.launcher.launch(job, hostName);
    } catch (error) {
      // A send that fails leaves a committed PENDING job: the reconciler sends it.
      this.logger.warn(`policy snapshot job ${job.id} not sent, the reconciler will: ${(error as Error).message}`);
    }
  }

  /** One policy in its own savepoint: a bug in one policy's run moves it on instead of blocking the batch. */
  private async handleSafely(tx: Repositories, policy: SnapshotPolicyEntity, now: Date): Promise<FollowUpJob[]> {
    try {
      return await tx.savepoint(() => this.handle(tx, policy, now));
    } catch (error) {
      this.logger.error(`policy ${policy.id}: run at ${now.toISOString()} failed: ${(error as Error).message}`);
      const next = PolicySchedule.of(policy.schedule, policy.timezone).next(now);
      await tx.snapshotPolicies.update(policy.id, { nextRunAt: next ?? farFuture(), retryOf: null });
      return [];
    }
  }

  private async handle(tx: Repositories, policy: SnapshotPolicyEntity, now: Date): Promise<FollowUpJob[]> {
    const schedule = PolicySchedule.of(policy.schedule, policy.timezone);
    if (policy.retryOf) {
      const after = schedule.next(policy.retryOf);
      if (!after || after.getTime() > now.getTime()) return this.retry(tx, policy, policy.retryOf, after, now);
      // The next occurrence is due as well: the retry gives way to it.
      policy = { ...policy, retryOf: null, nextRunAt: after };
    }
    const due = dueOccurrences(schedule, policy.nextRunAt, now);
    const instanceId = due.missed.length > 0 ? await instanceOfVolume(tx, policy) : undefined;
    for (const [i, scheduledAt] of due.missed.entries()) {
      if (!(await tx.policyRuns.insertOnce(this.finalRun(policy, scheduledAt, PolicyRunState.MISSED, null, now)))) {
        continue;
      }
      const uncounted = due.uncounted && i === 0;
      await recordRunEvent(tx, policy, {
        status: PolicyRunStatus.MISSED,
        scheduledAt,
        error: uncounted ? 'no scheduler ran; earlier occurrences were missed as well' : 'no scheduler ran',
        instanceId: instanceId ?? null,
        extra: uncounted ? { earlierMissed: true } : {},
      });
    }
    const nextRunAt = due.next ?? farFuture();
    if (!due.run) {
      const last = due.missed[due.missed.length - 1];
      await tx.snapshotPolicies.update(policy.id, {
        nextRunAt,
        retryOf: null,
        ...(last ? { lastRunAt: last, lastStatus: PolicyRunStatus.MISSED, lastError: 'no scheduler ran' } : {}),
      });
      return [];
    }
    // An occurrence that has its run already (the unique key) fails the insert in attempt: handleSafely rolls the
    // snapshot back and moves the policy on.
    return this.attempt(tx, policy, due.run, null, nextRunAt, now, instanceId);
  }

  /** A retry of a FAILED occurrence once its back-off has passed; or the end of retrying it. */
  private async retry(
    tx: Repositories,
    policy: SnapshotPolicyEntity,
    occurrence: Date,
    next: Date | null,
    now: Date,
  ): Promise<FollowUpJob[]> {
    const run = await tx.policyRuns.findOccurrence(policy.id, occurrence);
    const nextRunAt = next ?? farFuture();
    const at =
      run?.state === PolicyRunState.FAILED
        ? policyRetryAt(run.attempts, run.finishedAt ?? now, next, this.retryOptions())
        : null;
    if (!run || !at) {
      await tx.snapshotPolicies.update(policy.id, { nextRunAt, retryOf: null });
      return [];
    }
    if (at.getTime() > now.getTime()) {
      await tx.snapshotPolicies.update(policy.id, { nextRunAt: at });
      return [];
    }
    return this.attempt(tx, policy, occurrence, run, nextRunAt, now, undefined);
  }

  /**
   * Starts the occurrence's snapshot in a savepoint (a refusal undoes its writes and is recorded instead).
   * `run` is the FAILED run of a retry, or null for a first attempt.
   */
  private async attempt(
    tx: Repositories,
    policy: SnapshotPolicyEntity,
    scheduledAt: Date,
    run: PolicyRunEntity | null,
    nextRunAt: Date,
    now: Date,
    knownInstanceId: string | null | undefined,
  ): Promise<FollowUpJob[]> {
    // The volume's instance, for the events (read once: with the volume, or already by the caller).
    let instanceId = knownInstanceId ?? null;
    try {
      const started = await tx.savepoint(async () => {
        const volume = await tx.volumes.findById(organizationScope(policy.organizationId), policy.volumeId);
        if (!volume) throw notFound('Volume', policy.volumeId);
        instanceId = volume.instanceId;
        return beginSnapshot(tx, { userId: null }, volume, { policyId: policy.id });
      });
      const snapshotId = started.snapshot.id;
      if (run) {
        await tx.policyRuns.transition(run.id, [PolicyRunState.FAILED], PolicyRunState.RUNNING, {
          snapshotId,
          attempts: run.attempts + 1,
          error: null,
          finishedAt: null,
        });
      } else if (
        !(await tx.policyRuns.insertOnce({
          policyId: policy.id,
          organizationId: policy.organizationId,
          scheduledAt,
          state: PolicyRunState.RUNNING,
          snapshotId,
        }))
      ) {
        throw new Error(`occurrence ${scheduledAt.toISOString()} already has its run`);
      }
      await tx.snapshotPolicies.update(policy.id, { nextRunAt, retryOf: null });
      return [{ job: started.job, hostName: started.hostName }];
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The savepoint undid the refused snapshot; the event its error carries (quota.exceeded) is kept, as a
      // refused request's is after its rollback.
      const survivor = eventSurvivingRollback(error);
      if (survivor) await tx.events.record(survivor);
      return this.refused(tx, policy, scheduledAt, run, nextRunAt, now, instanceId, error);
    }
  }

  /** CONFLICT (the volume is busy): SKIPPED, not queued behind. Anything else: FAILED, retried if there is time. */
  private async refused(
    tx: Repositories,
    policy: SnapshotPolicyEntity,
    scheduledAt: Date,
    run: PolicyRunEntity | null,
    nextRunAt: Date,
    now: Date,
    instanceId: string | null,
    error: DomainError,
  ): Promise<FollowUpJob[]> {
    const skipped = error.code === ErrorCode.CONFLICT && !run;
    const status = skipped ? PolicyRunStatus.SKIPPED : PolicyRunStatus.FAILED;
    const attempts = run ? run.attempts + 1 : 1;
    if (run) {
      await tx.policyRuns.record(run.id, { attempts, error: error.message, finishedAt: now });
    } else {
      const state = skipped ? PolicyRunState.SKIPPED : PolicyRunState.FAILED;
      await tx.policyRuns.insertOnce(this.finalRun(policy, scheduledAt, state, error.message, now));
    }
    const retryAt = skipped
      ? null
      : policyRetryAt(
          attempts,
          now,
          nextRunAt.getTime() === farFuture().getTime() ? null : nextRunAt,
          this.retryOptions(),
        );
    await tx.snapshotPolicies.update(policy.id, {
      nextRunAt: retryAt ?? nextRunAt,
      retryOf: retryAt ? scheduledAt : null,
      lastRunAt: scheduledAt,
      lastStatus: status,
      lastError: error.message,
    });
    await recordRunEvent(tx, policy, {
      status,
      scheduledAt,
      error: error.message,
      instanceId,
      extra: { attempt: attempts, code: error.code, ...(skipped ? {} : { retryAt: retryAt?.toISOString() ?? null }) },
    });
    return [];
  }

  private finalRun(
    policy: SnapshotPolicyEntity,
    scheduledAt: Date,
    state: PolicyRunState,
    error: string | null,
    now: Date,
  ) {
    return { policyId: policy.id, organizationId: policy.organizationId, scheduledAt, state, error, finishedAt: now };
  }

  private retryOptions() {
    return { maxRetries: this.config.POLICY_MAX_RETRIES, baseSeconds: this.config.POLICY_RETRY_BASE_SECONDS };
  }
}

/** A schedule with no future occurrence (a fixed date that passed): never due again. */
export function farFuture(): Date {
  return new Date('9999-12-31T00:00:00Z');
}
