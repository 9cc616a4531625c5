import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { InstanceState, SnapshotState, stateAfterRefusedDelete, VolumeState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * Destroying an instance: once the agent removed the files (and the internal snapshots inside them, which
 * hold the instance snapshots' disks too), the rows go, instance snapshots first (their foreign key to the instance
 * is RESTRICT). A refusal leaves the instance and volumes ERROR and the snapshots and instance snapshots where
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
    const instanceSnapshots =
      job.resourceType === 'Instance' ? await tx.instanceSnapshots.findByInstance(job.resourceId) : [];
    if (outcome.ok) {
      // Policies first (their rows before the volumes', as the scheduler takes them): they go with their volume.
      await tx.snapshotPolicies.removeByVolumeIds(volumeIds);
      expectMoved(job, 'snapshots', await tx.snapshots.removeMany(snapshots.map((s) => s.id)), snapshots.length);
      expectMoved(
        job,
        'instance snapshots',
        await tx.instanceSnapshots.removeMany(instanceSnapshots.map((p) => p.id)),
        instanceSnapshots.length,
      );
      expectMoved(job, 'volumes', await tx.volumes.removeMany(volumeIds), volumeIds.length);
      if (job.resourceType === 'Instance') {
        expectMoved(job, 'instance', await tx.instances.remove(job.resourceId, InstanceState.DESTROYING));
      }
    } else {
      await backFromDestroying(job, 'snapshots', snapshots, (ids, to) =>
        tx.snapshots.transitionMany(ids, [SnapshotState.DESTROYING], to),
      );
      await backFromDestroying(job, 'instance snapshots', instanceSnapshots, (ids, to) =>
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
        ? `Destroyed ${volumeIds.length} volume(s), ${snapshots.length} snapshot(s) and ${instanceSnapshots.length} recovery point(s)`
        : `Destroy failed: ${outcome.message}`,
      details: { jobId: job.id, volumeIds },
    });
  }
}

/** A refused destroy returns each volume snapshot or instance snapshot it was removing to the state it left. */
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
