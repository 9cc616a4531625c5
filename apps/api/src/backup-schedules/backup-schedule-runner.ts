import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, notFound, policyRetryAt, PolicyRunStatus } from '@snapdeck/domain';
import {
  Database,
  eventSurvivingRollback,
  type BackupScheduleEntity,
  type BackupScheduleRunEntity,
  type BackupScheduleRunResult,
  type Repositories,
} from '@snapdeck/persistence';
import { backupRulesOf, beginBackup } from '../backups/begin-backup.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { POLICY_CLOCK, type Clock } from '../snapshot-policies/clock.js';
import { drainDue } from '../snapshot-policies/drain-due.js';
import { dueOccurrences } from '../snapshot-policies/due-occurrences.js';
import { farFuture } from '../snapshot-policies/policy-runner.js';
import { PolicySchedule } from '../snapshot-policies/schedule.js';
import { recordScheduleEvent } from './backup-schedule-events.js';

/** Schedules one transaction claims (each may start a backup per instance). */
export const SCHEDULE_CLAIM_BATCH = 5;

/** Why a schedule stopped: every instance it backed up was destroyed. */
export const NO_INSTANCE_LEFT = 'every instance of this schedule was destroyed: the schedule is disabled';

/**
 * Runs the backup schedules that are due, on the policy scheduler's pieces: claimed FOR UPDATE SKIP LOCKED in
 * batches (drainDue), catch-up and MISSED by dueOccurrences, bounded retries by policyRetryAt. Per schedule, in
 * its own savepoint: the run row (UNIQUE on schedule and scheduled time: one per occurrence whatever the
 * replicas), and one backup per instance through createBackup's path (beginBackup: the same rules, limits and
 * events; asked by `system:scheduler`), each in its own savepoint: a busy instance (a backup being written) is
 * SKIPPED with an event, any other refusal FAILED (the occurrence is retried for those instances, before the next
 * occurrence at most).
 */
@Injectable()
export class BackupScheduleRunner {
  private readonly logger = new Logger(BackupScheduleRunner.name);

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(POLICY_CLOCK) private readonly clock: Clock,
  ) {}

  /** Every schedule due at `now`; answers how many it handled. */
  runDue(now: Date = this.clock.now()): Promise<number> {
    return drainDue(
      this.db,
      SCHEDULE_CLAIM_BATCH,
      (tx) => tx.backupSchedules.claimDue(now, SCHEDULE_CLAIM_BATCH),
      (tx, schedule) => this.handleSafely(tx, schedule, now),
      (job) => this.launch(job),
    );
  }

  private async launch({ job, hostName }: FollowUpJob): Promise<void> {
    await this.launcher.launch(job, hostName).catch((error: unknown) => {
      // A committed PENDING job that was not sent: the reconciler sends it.
      this.logger.warn(`scheduled backup job ${job.id} not sent, the reconciler will: ${(error as Error).message}`);
    });
  }

  /** A bug in one schedule's run (or an occurrence run already) moves it on instead of blocking the batch. */
  private async handleSafely(tx: Repositories, schedule: BackupScheduleEntity, now: Date): Promise<FollowUpJob[]> {
    try {
      return await tx.savepoint(() => this.handle(tx, schedule, now));
    } catch (error) {
      this.logger.error(
        `backup schedule ${schedule.id}: run at ${now.toISOString()} failed: ${(error as Error).message}`,
      );
      const next = PolicySchedule.of(schedule.schedule, schedule.timezone).next(now);
      await tx.backupSchedules.update(schedule.id, { nextRunAt: next ?? farFuture(), retryOf: null });
      return [];
    }
  }

  private async handle(tx: Repositories, schedule: BackupScheduleEntity, now: Date): Promise<FollowUpJob[]> {
    const plan = PolicySchedule.of(schedule.schedule, schedule.timezone);
    if (schedule.retryOf) {
      const after = plan.next(schedule.retryOf);
      if (!after || after.getTime() > now.getTime()) return this.retry(tx, schedule, schedule.retryOf, after, now);
      // The next occurrence is due as well: the retry gives way to it.
      schedule = { ...schedule, retryOf: null, nextRunAt: after };
    }
    const due = dueOccurrences(plan, schedule.nextRunAt, now);
    for (const scheduledAt of due.missed) {
      const base = { scheduleId: schedule.id, organizationId: schedule.organizationId, scheduledAt };
      if (
        !(await tx.backupSchedules.insertRunOnce({
          ...base,
          status: PolicyRunStatus.MISSED,
          error: 'no scheduler ran',
        }))
      ) {
        continue;
      }
      await recordScheduleEvent(tx, schedule, {
        status: PolicyRunStatus.MISSED,
        scheduledAt,
        error: 'no scheduler ran',
      });
    }
    const nextRunAt = due.next ?? farFuture();
    if (!due.run) {
      const last = due.missed[due.missed.length - 1];
      await tx.backupSchedules.update(schedule.id, {
        nextRunAt,
        retryOf: null,
        ...(last ? { lastRunAt: last, lastStatus: PolicyRunStatus.MISSED, lastError: 'no scheduler ran' } : {}),
      });
      return [];
    }
    const instanceIds = await tx.backupSchedules.instanceIdsOf(schedule.id);
    if (instanceIds.length === 0) {
      await tx.backupSchedules.update(schedule.id, {
        enabled: false,
        nextRunAt,
        retryOf: null,
        lastStatus: PolicyRunStatus.FAILED,
        lastError: NO_INSTANCE_LEFT,
      });
      return [];
    }
    const { results, jobs } = await this.startBackups(tx, schedule, instanceIds);
    const inserted = await tx.backupSchedules.insertRunOnce({
      scheduleId: schedule.id,
      organizationId: schedule.organizationId,
      scheduledAt: due.run,
      status: occurrenceStatus(results),
      results,
      error: firstError(results),
    });
    // Another replica ran this occurrence already: handleSafely's savepoint undoes the backups just started.
    if (!inserted) throw new Error(`occurrence ${due.run.toISOString()} already has its run`);
    await this.settle(tx, schedule, due.run, { all: results, fresh: results }, 1, nextRunAt, now);
    return jobs;
  }

  /** A retry of a FAILED occurrence once its back-off has passed: only the instances that failed, again. */
  private async retry(
    tx: Repositories,
    schedule: BackupScheduleEntity,
    occurrence: Date,
    next: Date | null,
    now: Date,
  ): Promise<FollowUpJob[]> {
    const run = await tx.backupSchedules.findRun(schedule.id, occurrence);
    const nextRunAt = next ?? farFuture();
    if (run?.status !== PolicyRunStatus.FAILED) {
      await tx.backupSchedules.update(schedule.id, { nextRunAt, retryOf: null });
      return [];
    }
    const failed = run.results.filter((r) => r.status === PolicyRunStatus.FAILED).map((r) => r.instanceId);
    const still = new Set(await tx.backupSchedules.instanceIdsOf(schedule.id));
    const { results: again, jobs } = await this.startBackups(
      tx,
      schedule,
      failed.filter((id) => still.has(id)),
    );
    const results = mergeResults(run, again);
    const attempts = run.attempts + 1;
    await tx.backupSchedules.updateRun(run.id, {
      status: occurrenceStatus(results),
      results,
      attempts,
      error: firstError(results),
    });
    await this.settle(tx, schedule, occurrence, { all: results, fresh: again }, attempts, nextRunAt, now);
    return jobs;
  }

  /** One backup per instance, each in its own savepoint: a refusal undoes what its attempt wrote. */
  private async startBackups(
    tx: Repositories,
    schedule: BackupScheduleEntity,
    instanceIds: readonly string[],
  ): Promise<{ results: BackupScheduleRunResult[]; jobs: FollowUpJob[] }> {
    const results: BackupScheduleRunResult[] = [];
    const jobs: FollowUpJob[] = [];
    for (const instanceId of instanceIds) {
      try {
        const { operation, hostName } = await tx.savepoint(async () => {
          const instance = await tx.instances.lock(instanceId, 'update');
          if (!instance || instance.organizationId !== schedule.organizationId) throw notFound('Instance', instanceId);
          return beginBackup(
            tx,
            { userId: null },
            instance,
            {
              mode: schedule.mode,
              compression: schedule.compression,
              storageId: schedule.storageId,
              notify: schedule.notify,
              incremental: schedule.incremental,
              scheduleId: schedule.id,
            },
            backupRulesOf(this.config),
          );
        });
        results.push({ instanceId, status: PolicyRunStatus.SUCCEEDED, backupId: operation.backup.id });
        jobs.push({ job: operation.job, hostName });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        // The savepoint undid the refused backup; the event its error carries (quota.exceeded) is kept.
        const survivor = eventSurvivingRollback(error);
        if (survivor) await tx.events.record(survivor);
        const busy = error.code === ErrorCode.CONFLICT;
        const status = busy ? PolicyRunStatus.SKIPPED : PolicyRunStatus.FAILED;
        results.push({ instanceId, status, error: error.message, code: error.code });
      }
    }
    return { results, jobs };
  }

  /**
   * The schedule's last* and its next run (the next occurrence, or a bounded retry of this one before it), and the
   * events: one per instance this attempt skipped or failed (naming it, to the notify addresses), or the
   * occurrence's success.
   */
  private async settle(
    tx: Repositories,
    schedule: BackupScheduleEntity,
    scheduledAt: Date,
    results: { all: readonly BackupScheduleRunResult[]; fresh: readonly BackupScheduleRunResult[] },
    attempt: number,
    nextRunAt: Date,
    now: Date,
  ): Promise<void> {
    const status = occurrenceStatus(results.all);
    const retryAt =
      status === PolicyRunStatus.FAILED
        ? policyRetryAt(attempt, now, nextRunAt.getTime() === farFuture().getTime() ? null : nextRunAt, {
            maxRetries: this.config.POLICY_MAX_RETRIES,
            baseSeconds: this.config.POLICY_RETRY_BASE_SECONDS,
          })
        : null;
    await tx.backupSchedules.update(schedule.id, {
      nextRunAt: retryAt ?? nextRunAt,
      retryOf: retryAt ? scheduledAt : null,
      lastRunAt: scheduledAt,
      lastStatus: status,
      lastError: firstError(results.all),
    });
    for (const result of results.fresh.filter((r) => r.status !== PolicyRunStatus.SUCCEEDED)) {
      const failed = result.status === PolicyRunStatus.FAILED;
      await recordScheduleEvent(tx, schedule, {
        status: result.status,
        scheduledAt,
        instanceId: result.instanceId,
        error: result.error,
        extra: { attempt, code: result.code, ...(failed ? { retryAt: retryAt?.toISOString() ?? null } : {}) },
      });
    }
    if (status === PolicyRunStatus.SUCCEEDED) {
      await recordScheduleEvent(tx, schedule, {
        status,
        scheduledAt,
        extra: { attempt, backupIds: results.all.flatMap((r) => (r.backupId ? [r.backupId] : [])) },
      });
    }
  }
}

/** FAILED if an instance was refused, SUCCEEDED if a backup started, SKIPPED when every instance was busy. */
function occurrenceStatus(results: readonly BackupScheduleRunResult[]): PolicyRunStatus {
  if (results.some((r) => r.status === PolicyRunStatus.FAILED)) return PolicyRunStatus.FAILED;
  if (results.some((r) => r.status === PolicyRunStatus.SUCCEEDED)) return PolicyRunStatus.SUCCEEDED;
  return PolicyRunStatus.SKIPPED;
}

function firstError(results: readonly BackupScheduleRunResult[]): string | null {
  return results.find((r) => r.status !== PolicyRunStatus.SUCCEEDED)?.error ?? null;
}

/** The run's results with the retried instances' new ones in their place. */
function mergeResults(run: BackupScheduleRunEntity, again: readonly BackupScheduleRunResult[]) {
  return run.results.map((r) => again.find((a) => a.instanceId === r.instanceId) ?? r);
}
