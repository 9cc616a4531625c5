import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { InstanceState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * STOPPING ends STOPPED, or RUNNING again when the hypervisor could not stop it (or never answered): the guest
 * is taken to be still up, and a new stopInstance may be asked for.
 */
export class StopInstanceApplier implements JobOutcomeApplier<JobName.STOP_INSTANCE> {
  readonly jobName = JobName.STOP_INSTANCE;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.STOP_INSTANCE>,
    outcome: JobOutcome<JobName.STOP_INSTANCE>,
  ): Promise<void> {
    const to = outcome.ok ? InstanceState.STOPPED : InstanceState.RUNNING;
    expectMoved(job, 'instance', await tx.instances.transition(job.resourceId, [InstanceState.STOPPING], to));
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance.stopped' : 'instance.stop_failed',
      resourceType: 'Instance',
      resourceId: job.resourceId,
      message: outcome.ok
        ? outcome.data.forced
          ? 'Instance forced off: the guest did not shut down in time'
          : 'Instance stopped'
        : `Stop failed: ${outcome.message}`,
      details: { jobId: job.id, ...(outcome.ok ? { forced: outcome.data.forced } : {}) },
    });
  }
}
