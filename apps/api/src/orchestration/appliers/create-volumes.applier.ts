import { JobName, type JobOutcome } from '@snapdeck/contracts';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';
import { finishProvisioning } from './provisioning.js';

/** Provisioning an instance or a volume: its volumes become READY (the instance STOPPED), or ERROR. */
export class CreateVolumesApplier implements JobOutcomeApplier<JobName.CREATE_VOLUMES> {
  readonly jobName = JobName.CREATE_VOLUMES;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.CREATE_VOLUMES>,
    outcome: JobOutcome<JobName.CREATE_VOLUMES>,
  ): Promise<void> {
    const { volumes } = job.payload;
    await finishProvisioning(
      tx,
      job,
      volumes.map((v) => v.volumeId),
      outcome,
    );
  }
}
