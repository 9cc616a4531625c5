import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { InstanceState, SnapshotState, stateAfterRefusedDelete, VolumeState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * Destroying an instance: once the agent removed the files (and the internal snapshots inside them, which
 * hold the recovery points' disks too), the rows go, recovery points first (their foreign key to the instance
 * is RESTRICT). A refusal leaves the instance and volumes ERROR and the snapshots and recovery points where
 * they were.
 */
export class DestroyVolumesApplier implements JobOutcomeApplier<JobName.DESTROY_VOLUMES> {
  readonly jobName = JobName.DESTROY_VOLUMES;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.DESTROY_VOLUMES>,
    outcome: JobOutcome<JobName.DESTROY_VOLUMES>,
  ): Promise<void> {
    const { volumeIds } = job.payload;
    const snapshots = await tx.snapshots.findByVolumeIds(volumeIds);
    const points = job.resourceType === 'Instance' ? await tx.instanceSnapshots.findByInstance(job.resourceId) : [];
    if (outcome.ok) {
      expectMoved(job, 'snapshots', await tx.snapshots.removeMany(snapshots.map((s) => s.id)), snapshots.length);
      expectMoved(
        job,
        'recovery points',
        await tx.instanceSnapshots.removeMany(points.map((p) => p.id)),
        points.length,
      );
      expectMoved(job, 'volumes', await tx.volumes.removeMany(volumeIds), volumeIds.length);
      if (job.resourceType === 'Instance') {
        expectMoved(job, 'instance', await tx.instances.remove(job.resourceId, InstanceState.DESTROYING));
      }
    } else {
      await backFromDestroying(job, 'snapshots', snapshots, (ids, to) =>
        tx.snapshots.transitionMany(ids, [SnapshotState.DESTROYING], to),
      );
      await backFromDestroying(job, 'recovery points', points, (ids, to) =>
        tx.instanceSnapshots.transitionMany(ids, [SnapshotState.DESTROYING], to),
      );
      expectMoved(
        job,
        'volumes',
        await tx.volumes.transitionMany(volumeIds, [VolumeState.DESTROYING], VolumeState.ERROR),
        volumeIds.length,
      );
      if (job.resourceType === 'Instance') {
        expectMoved(
          job,
          'instance',
          await tx.instances.transition(job.resourceId, [InstanceState.DESTROYING], InstanceState.ERROR),
        );
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

/** A refused destroy returns each snapshot or recovery point it was removing to the state it left. */
async function backFromDestroying(
  job: JobOf<JobName.DESTROY_VOLUMES>,
  what: string,
  rows: Array<{ id: string; state: SnapshotState; completedAt: Date | null }>,
  move: (ids: string[], to: SnapshotState) => Promise<number>,
): Promise<void> {
  const destroying = rows.filter((r) => r.state === SnapshotState.DESTROYING);
  for (const to of [SnapshotState.COMPLETED, SnapshotState.ERROR]) {
    const ids = destroying.filter((r) => stateAfterRefusedDelete(r) === to).map((r) => r.id);
    expectMoved(job, what, await move(ids, to), ids.length);
  }
}
