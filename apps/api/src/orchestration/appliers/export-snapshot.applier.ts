import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { TemplateState } from '@snapdeck/domain';
import type { JobEntity, Repositories } from '@snapdeck/persistence';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';
import { finishProvisioning, provisionFromTransfer, volumesOfResource } from './provisioning.js';

/**
 * A snapshot written to secondary storage: either a template's image (resource Template), or the first step
 * of a copy onto another host (resource Instance or Volume), whose second step it starts.
 */
export class ExportSnapshotApplier implements JobOutcomeApplier<JobName.EXPORT_SNAPSHOT> {
  readonly jobName = JobName.EXPORT_SNAPSHOT;

  async apply(tx: Repositories, job: JobEntity, outcome: JobOutcome<JobName.EXPORT_SNAPSHOT>): Promise<FollowUpJob[]> {
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

  private async finishTemplate(tx: Repositories, job: JobEntity, outcome: JobOutcome<JobName.EXPORT_SNAPSHOT>) {
    const { snapshotId } = job.payload as unknown as JobPayloads[JobName.EXPORT_SNAPSHOT];
    if (outcome.ok) {
      await tx.templates.transition(job.resourceId, [TemplateState.CREATING], TemplateState.READY, {
        virtualSizeBytes: String(outcome.data.virtualSizeBytes),
      });
    } else {
      await tx.templates.transition(job.resourceId, [TemplateState.CREATING], TemplateState.ERROR, {
        error: outcome.message,
      });
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'template.created' : 'template.failed',
      resourceType: 'Template',
      resourceId: job.resourceId,
      message: outcome.ok ? `Template written from snapshot ${snapshotId}` : `Template failed: ${outcome.message}`,
      details: { jobId: job.id, snapshotId },
    });
  }
}
