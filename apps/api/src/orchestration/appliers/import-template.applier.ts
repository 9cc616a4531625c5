import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { TemplateState } from '@snapdeck/domain';
import type { JobEntity, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** A registered image passed the agent's inspection and was copied in, or was refused with the reason. */
export class ImportTemplateApplier implements JobOutcomeApplier<JobName.IMPORT_TEMPLATE> {
  readonly jobName = JobName.IMPORT_TEMPLATE;

  async apply(tx: Repositories, job: JobEntity, outcome: JobOutcome<JobName.IMPORT_TEMPLATE>): Promise<void> {
    const { path } = job.payload as unknown as JobPayloads[JobName.IMPORT_TEMPLATE];
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
      type: outcome.ok ? 'template.registered' : 'template.refused',
      resourceType: 'Template',
      resourceId: job.resourceId,
      message: outcome.ok ? `Template registered from ${path}` : `Template refused: ${outcome.message}`,
      details: { jobId: job.id, path },
    });
  }
}
