import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { SnapshotState, stateAfterRefusedDelete } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** The row goes only once the disk confirmed; a refused delete returns the snapshot to the state it left. */
export class DeleteSnapshotApplier implements JobOutcomeApplier<JobName.DELETE_SNAPSHOT> {
  readonly jobName = JobName.DELETE_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.DELETE_SNAPSHOT>,
    outcome: JobOutcome<JobName.DELETE_SNAPSHOT>,
  ): Promise<void> {
    const { volumeId, snapshotId } = job.payload;
    // Read before the row goes: the event (and the notification it sends) names what was deleted.
    const snapshot = await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshotId);
    if (outcome.ok) {
      expectMoved(job, 'snapshot', await tx.snapshots.remove(snapshotId, SnapshotState.DESTROYING));
    } else {
      const back = stateAfterRefusedDelete({ completedAt: snapshot?.completedAt ?? null });
      const moved = await tx.snapshots.transition(snapshotId, [SnapshotState.DESTROYING], back, {
        error: `Delete failed: ${outcome.message}`,
      });
      expectMoved(job, 'snapshot', moved);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'snapshot.deleted' : 'snapshot.delete_failed',
      resourceType: 'Snapshot',
      resourceId: snapshotId,
      message: !outcome.ok
        ? `Snapshot delete failed: ${outcome.message}`
        : outcome.data.alreadyGone
          ? 'Snapshot removed: it was already missing from disk'
          : 'Snapshot deleted from disk',
      details: {
        jobId: job.id,
        volumeId,
        ...(snapshot ? { snapshotName: snapshot.name } : {}),
        ...(outcome.ok ? { alreadyGone: outcome.data.alreadyGone } : {}),
      },
    });
  }
}
