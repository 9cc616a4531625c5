import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { InstanceState, VolumeState } from '@snapdeck/domain';
import type { JobEntity, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** Provisioning an instance: its volumes become READY and the instance STOPPED, or all of them ERROR. */
export class CreateVolumesApplier implements JobOutcomeApplier<JobName.CREATE_VOLUMES> {
  readonly jobName = JobName.CREATE_VOLUMES;

  async apply(tx: Repositories, job: JobEntity, outcome: JobOutcome<JobName.CREATE_VOLUMES>): Promise<void> {
    const { volumes } = job.payload as unknown as JobPayloads[JobName.CREATE_VOLUMES];
    const volumeState = outcome.ok ? VolumeState.READY : VolumeState.ERROR;
    await tx.volumes.transitionMany(
      volumes.map((v) => v.volumeId),
      [VolumeState.CREATING],
      volumeState,
    );
    if (job.resourceType === 'Instance') {
      const instanceState = outcome.ok ? InstanceState.STOPPED : InstanceState.ERROR;
      await tx.instances.transition(job.resourceId, [InstanceState.CREATING], instanceState);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? `${job.resourceType.toLowerCase()}.created` : `${job.resourceType.toLowerCase()}.failed`,
      resourceType: job.resourceType,
      resourceId: job.resourceId,
      message: outcome.ok ? `${volumes.length} volume(s) provisioned` : `Provisioning failed: ${outcome.message}`,
      details: { jobId: job.id },
    });
  }
}
