import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { SnapshotState, stateAfterRefusedDelete } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** As for a volume snapshot: the row goes once the hypervisor confirmed; a refused delete puts it back. */
export class DeleteInstanceSnapshotApplier implements JobOutcomeApplier<JobName.DELETE_INSTANCE_SNAPSHOT> {
  readonly jobName = JobName.DELETE_INSTANCE_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.DELETE_INSTANCE_SNAPSHOT>,
    outcome: JobOutcome<JobName.DELETE_INSTANCE_SNAPSHOT>,
  ): Promise<void> {
    const { instanceId, instanceSnapshotId } = job.payload;
    if (outcome.ok) {
      expectMoved(
        job,
        'instance snapshot',
        await tx.instanceSnapshots.remove(instanceSnapshotId, SnapshotState.DESTROYING),
      );
    } else {
      const instanceSnapshot = await tx.instanceSnapshots.findById(ALL_ORGANIZATIONS, instanceSnapshotId);
      const back = stateAfterRefusedDelete({ completedAt: instanceSnapshot?.completedAt ?? null });
      const moved = await tx.instanceSnapshots.transition(instanceSnapshotId, [SnapshotState.DESTROYING], back, {
        error: `Delete failed: ${outcome.message}`,
      });
      expectMoved(job, 'instance snapshot', moved);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'instance_snapshot.deleted' : 'instance_snapshot.delete_failed',
      resourceType: 'InstanceSnapshot',
      resourceId: instanceSnapshotId,
      message: !outcome.ok
        ? `Recovery point delete failed: ${outcome.message}`
        : outcome.data.alreadyGone
          ? 'Recovery point removed: it was already missing from disk'
          : 'Recovery point deleted',
      details: { jobId: job.id, instanceId, ...(outcome.ok ? { alreadyGone: outcome.data.alreadyGone } : {}) },
    });
  }
}
