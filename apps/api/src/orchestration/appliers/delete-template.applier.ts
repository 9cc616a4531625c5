import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { TemplateState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** The row goes once the file is gone; a refused delete returns the template to where it was. */
export class DeleteTemplateApplier implements JobOutcomeApplier<JobName.DELETE_TEMPLATE> {
  readonly jobName = JobName.DELETE_TEMPLATE;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.DELETE_TEMPLATE>,
    outcome: JobOutcome<JobName.DELETE_TEMPLATE>,
  ): Promise<void> {
    if (outcome.ok) {
      expectMoved(job, 'template', await tx.templates.remove(job.resourceId, TemplateState.DESTROYING));
    } else {
      const template = await tx.templates.findOwned(ALL_ORGANIZATIONS, job.resourceId);
      const back = template?.virtualSizeBytes ? TemplateState.READY : TemplateState.ERROR;
      const moved = await tx.templates.transition(job.resourceId, [TemplateState.DESTROYING], back, {
        error: `Delete failed: ${outcome.message}`,
      });
      expectMoved(job, 'template', moved);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'template.deleted' : 'template.delete_failed',
      resourceType: 'Template',
      resourceId: job.resourceId,
      message: outcome.ok ? 'Template deleted from secondary storage' : `Template delete failed: ${outcome.message}`,
      details: { jobId: job.id },
    });
  }
}
