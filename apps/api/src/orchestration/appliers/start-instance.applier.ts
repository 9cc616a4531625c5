import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { InstanceState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** STARTING ends RUNNING, or STOPPED when the hypervisor refused (or never answered: the reconciler fails it). */
export class StartInstanceApplier implements JobOutcomeApplier<JobName.START_INSTANCE> {
  readonly jobName = JobName.START_INSTANCE;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.START_INSTANCE>,
    outcome: JobOutcome<JobName.START_INSTANCE>,
  ): Promise<void> {
    const to = outcome.ok ? InstanceState.RUNNING : InstanceState.STOPPED;
    expectMoved(job, 'instance', await tx.instances.transition(job.resourceId, [InstanceState.STARTING], to));
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance.started' : 'instance.start_failed',
      resourceType: 'Instance',
      resourceId: job.resourceId,
      message: outcome.ok
        ? outcome.data.alreadyRunning
          ? 'Instance was running already'
          : 'Instance started'
        : `Start failed: ${outcome.message}`,
      details: { jobId: job.id },
    });
  }
}
