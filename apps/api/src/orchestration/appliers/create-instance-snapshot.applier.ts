import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { SnapshotState, VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** The instance snapshot is COMPLETED or ERROR; the instance's volumes are READY again either way. */
export class CreateInstanceSnapshotApplier implements JobOutcomeApplier<JobName.CREATE_INSTANCE_SNAPSHOT> {
  readonly jobName = JobName.CREATE_INSTANCE_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.CREATE_INSTANCE_SNAPSHOT>,
    outcome: JobOutcome<JobName.CREATE_INSTANCE_SNAPSHOT>,
  ): Promise<void> {
    const { instanceId, volumeIds, instanceSnapshotId } = job.payload;
    const taken = outcome.ok ? await tx.instanceSnapshots.findById(ALL_ORGANIZATIONS, instanceSnapshotId) : null;
    const next = outcome.ok
      ? {
          to: SnapshotState.COMPLETED,
          changes: {
            completedAt: new Date(),
            error: null,
            quiesced: outcome.data.quiesced,
            // What it captured, completed with what only the hypervisor knows.
            configuration: {
              ...(taken?.configuration ?? {}),
              quiesced: outcome.data.quiesced,
              libvirtXml: outcome.data.snapshotXml ?? null,
            },
          },
        }
      : { to: SnapshotState.ERROR, changes: { error: outcome.message } };
    expectMoved(
      job,
      'instance snapshot',
      await tx.instanceSnapshots.transition(instanceSnapshotId, [SnapshotState.IN_PROGRESS], next.to, next.changes),
    );
    const volumesMoved = await tx.volumes.transitionMany(volumeIds, [VolumeState.SNAPSHOTTING], VolumeState.READY);
    expectMoved(job, 'volumes', volumesMoved, volumeIds.length);
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance_snapshot.completed' : 'instance_snapshot.failed',
      resourceType: 'InstanceSnapshot',
      resourceId: instanceSnapshotId,
      message: outcome.ok ? 'Recovery point completed' : `Recovery point failed: ${outcome.message}`,
      details: { jobId: job.id, instanceId, volumeIds },
    });
  }
}
