import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { InstanceState, SnapshotState, VolumeState } from '@snapdeck/domain';
import type { JobEntity, Repositories } from '@snapdeck/persistence';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * Destroying an instance: once the agent removed the files (and the internal snapshots inside them, which
 * hold the recovery points' disks too), the rows go, recovery points first (their foreign key to the instance
 * is RESTRICT). A refusal leaves the instance and volumes ERROR and the snapshots and recovery points where
 * they were.
 */
export class DestroyVolumesApplier implements JobOutcomeApplier<JobName.DESTROY_VOLUMES> {
  readonly jobName = JobName.DESTROY_VOLUMES;

  async apply(tx: Repositories, job: JobEntity, outcome: JobOutcome<JobName.DESTROY_VOLUMES>): Promise<void> {
    const { volumeIds } = job.payload as unknown as JobPayloads[JobName.DESTROY_VOLUMES];
    const snapshots = await tx.snapshots.findByVolumeIds(volumeIds);
    const points = job.resourceType === 'Instance' ? await tx.instanceSnapshots.findByInstance(job.resourceId) : [];
    if (outcome.ok) {
      await tx.snapshots.removeMany(snapshots.map((s) => s.id));
      await tx.instanceSnapshots.removeMany(points.map((p) => p.id));
      await tx.volumes.removeMany(volumeIds);
      if (job.resourceType === 'Instance') await tx.instances.remove(job.resourceId, InstanceState.DESTROYING);
    } else {
      const destroying = snapshots.filter((s) => s.state === SnapshotState.DESTROYING);
      const completed = destroying.filter((s) => s.completedAt).map((s) => s.id);
      const neverOnDisk = destroying.filter((s) => !s.completedAt).map((s) => s.id);
      await tx.snapshots.transitionMany(completed, [SnapshotState.DESTROYING], SnapshotState.COMPLETED);
      await tx.snapshots.transitionMany(neverOnDisk, [SnapshotState.DESTROYING], SnapshotState.ERROR);
      const pointsDestroying = points.filter((p) => p.state === SnapshotState.DESTROYING);
      await tx.instanceSnapshots.transitionMany(
        pointsDestroying.filter((p) => p.completedAt).map((p) => p.id),
        [SnapshotState.DESTROYING],
        SnapshotState.COMPLETED,
      );
      await tx.instanceSnapshots.transitionMany(
        pointsDestroying.filter((p) => !p.completedAt).map((p) => p.id),
        [SnapshotState.DESTROYING],
        SnapshotState.ERROR,
      );
      await tx.volumes.transitionMany(volumeIds, [VolumeState.DESTROYING], VolumeState.ERROR);
      if (job.resourceType === 'Instance') {
        await tx.instances.transition(job.resourceId, [InstanceState.DESTROYING], InstanceState.ERROR);
      }
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance.destroyed' : 'instance.destroy_failed',
      resourceType: job.resourceType,
      resourceId: job.resourceId,
      message: outcome.ok
        ? `Destroyed ${volumeIds.length} volume(s), ${snapshots.length} snapshot(s) and ${points.length} recovery point(s)`
        : `Destroy failed: ${outcome.message}`,
      details: { jobId: job.id, volumeIds },
    });
  }
}
