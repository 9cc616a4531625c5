import { JobName, type JobOutcome, type RepairReport } from '@snapdeck/contracts';
import { EventType } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** Records what REPAIR_STORAGE removed and failed to remove on its audit, which closes with it. */
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
    if (!(await tx.storageAudits.finish(job.resourceId, { ...report }))) return;
    await tx.events.record({
      organizationId: null,
      actorUserId: job.createdByUserId,
      type: EventType.STORAGE_REPAIR_COMPLETED,
      resourceType: 'StorageAudit',
      resourceId: job.resourceId,
      message: `Storage repair removed ${report.removed.length} orphan(s)${report.failed.length ? `, ${report.failed.length} failed` : ''}`,
      details: { jobId: job.id, removed: report.removed, failed: report.failed },
    });
  }
}
