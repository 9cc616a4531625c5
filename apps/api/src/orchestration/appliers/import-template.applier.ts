import { JobName, type JobOutcome } from '@snapdeck/contracts';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';
import { finishTemplateImage } from './template-image.js';

/** A registered image passed the agent's inspection and was copied in, or was refused with the reason. */
export class ImportTemplateApplier implements JobOutcomeApplier<JobName.IMPORT_TEMPLATE> {
  readonly jobName = JobName.IMPORT_TEMPLATE;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.IMPORT_TEMPLATE>,
    outcome: JobOutcome<JobName.IMPORT_TEMPLATE>,
  ): Promise<void> {
    const { path } = job.payload;
    await finishTemplateImage(
      tx,
      job,
      outcome.ok ? { ok: true, virtualSizeBytes: outcome.data.virtualSizeBytes } : outcome,
      {
        type: outcome.ok ? 'template.registered' : 'template.refused',
        message: outcome.ok ? `Template registered from ${path}` : `Template refused: ${outcome.message}`,
        details: { path },
      },
    );
  }
}
