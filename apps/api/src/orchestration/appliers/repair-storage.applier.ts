import { JobName, type JobOutcome, type RepairReport } from '@snapdeck/contracts';
import { EventType } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * Records what REPAIR_STORAGE removed and failed to remove: on its audit, which closes with it, or on the
 * snapshot or recovery point whose late create left tags behind (late-create-cleanup.ts).
 */
export class RepairStorageApplier implements JobOutcomeApplier<JobName.REPAIR_STORAGE> {
  readonly jobName = JobName.REPAIR_STORAGE;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.REPAIR_STORAGE>,
    outcome: JobOutcome<JobName.REPAIR_STORAGE>,
  ): Promise<void> {
    const report: RepairReport = outcome.ok
      ? outcome.data
      : { removed: [], failed: [{ target: 'repair-storage', message: outcome.message }] };
    const ofAudit = job.resourceType === 'StorageAudit';
    if (ofAudit && !(await tx.storageAudits.finish(job.resourceId, { ...report }))) return;
    const failures = report.failed.length ? `, ${report.failed.length} failed` : '';
    await tx.events.record({
      organizationId: ofAudit ? null : job.organizationId,
      actorUserId: job.createdByUserId,
      type: EventType.STORAGE_REPAIR_COMPLETED,
      resourceType: job.resourceType,
      resourceId: job.resourceId,
      message: ofAudit
        ? `Storage repair removed ${report.removed.length} orphan(s)${failures}`
        : `Removed ${report.removed.length} tag(s) a create wrote after it had failed${failures}`,
      details: { jobId: job.id, removed: report.removed, failed: report.failed },
    });
  }
}
