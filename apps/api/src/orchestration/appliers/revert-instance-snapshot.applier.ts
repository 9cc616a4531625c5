import { JobFailureReason, JobName, type JobOutcome } from '@snapdeck/contracts';
import { InstanceState, VolumeState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { recoveryPointMissingOnDisk } from '../../storage-audits/missing-on-disk.js';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * The volumes are READY again either way. After a revert the instance is RUNNING or STOPPED as the hypervisor
 * reports it; after a failure it keeps the state it had (RUNNING or STOPPED: a revert never moves it before).
 * A recovery point the agent found missing on disk (SNAPSHOT_MISSING) becomes ERROR.
 */
export class RevertInstanceSnapshotApplier implements JobOutcomeApplier<JobName.REVERT_INSTANCE_SNAPSHOT> {
  readonly jobName = JobName.REVERT_INSTANCE_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.REVERT_INSTANCE_SNAPSHOT>,
    outcome: JobOutcome<JobName.REVERT_INSTANCE_SNAPSHOT>,
  ): Promise<void> {
    const { instanceId, volumeIds, instanceSnapshotId } = job.payload;
    const volumesMoved = await tx.volumes.transitionMany(volumeIds, [VolumeState.REVERTING], VolumeState.READY);
    expectMoved(job, 'volumes', volumesMoved, volumeIds.length);
    await tx.volumes.markContentsReplaced(volumeIds, new Date());
    if (outcome.ok) {
      // The instance was RUNNING or STOPPED and a revert never moved it: the one move is to the other state
      // (the table has no RUNNING→RUNNING). Already where the hypervisor says, nothing moves, as it should.
      const [from, to] = outcome.data.running
        ? [InstanceState.STOPPED, InstanceState.RUNNING]
        : [InstanceState.RUNNING, InstanceState.STOPPED];
      await tx.instances.transition(instanceId, [from], to);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance.reverted' : 'instance.revert_failed',
      resourceType: 'Instance',
      resourceId: instanceId,
      message: outcome.ok
        ? `Instance reverted to recovery point ${instanceSnapshotId}, ${outcome.data.running ? 'running' : 'stopped'}`
        : `Revert to recovery point failed: ${outcome.message}`,
      details: { jobId: job.id, instanceSnapshotId },
    });
    if (!outcome.ok && outcome.reason === JobFailureReason.SNAPSHOT_MISSING)
      await recoveryPointMissingOnDisk(tx, job, instanceSnapshotId, new Date());
  }
}
