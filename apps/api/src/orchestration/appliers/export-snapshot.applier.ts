import { JobFailureReason, JobName, type JobOutcome } from '@snapdeck/contracts';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { snapshotMissingOnDisk } from '../../storage-audits/missing-on-disk.js';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';
import { finishTemplateImage } from './template-image.js';
import { finishProvisioning, provisionFromTransfer, volumesOfResource } from './provisioning.js';

/**
 * A snapshot written to secondary storage: either a template's image (resource Template), or the first step
 * of a copy onto another host (resource Instance or Volume), whose second step it starts. Either way, a snapshot
 * the agent found missing on disk (SNAPSHOT_MISSING) becomes ERROR.
 */
export class ExportSnapshotApplier implements JobOutcomeApplier<JobName.EXPORT_SNAPSHOT> {
  readonly jobName = JobName.EXPORT_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.EXPORT_SNAPSHOT>,
    outcome: JobOutcome<JobName.EXPORT_SNAPSHOT>,
  ): Promise<FollowUpJob[]> {
    if (!outcome.ok && outcome.reason === JobFailureReason.SNAPSHOT_MISSING)
      await snapshotMissingOnDisk(tx, job, job.payload.snapshotId, new Date());
    if (job.resourceType === 'Template') {
      await this.finishTemplate(tx, job, outcome);
      return [];
    }
    if (outcome.ok) return provisionFromTransfer(tx, job, outcome.data.destination);
    const volumes = await volumesOfResource(tx, job);
    await finishProvisioning(
      tx,
      job,
      volumes.map((v) => v.id),
      outcome,
    );
    return [];
  }

  private finishTemplate(
    tx: Repositories,
    job: JobOf<JobName.EXPORT_SNAPSHOT>,
    outcome: JobOutcome<JobName.EXPORT_SNAPSHOT>,
  ) {
    const { snapshotId } = job.payload;
    return finishTemplateImage(
      tx,
      job,
      outcome.ok ? { ok: true, virtualSizeBytes: outcome.data.virtualSizeBytes } : outcome,
      {
        type: outcome.ok ? 'template.created' : 'template.failed',
        message: outcome.ok ? `Template written from snapshot ${snapshotId}` : `Template failed: ${outcome.message}`,
        details: { snapshotId },
      },
    );
  }
}
