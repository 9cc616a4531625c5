import { JobFailureReason, JobName, type JobOutcome } from '@snapdeck/contracts';
import { VolumeState } from '@snapdeck/domain';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { snapshotMissingOnDisk } from '../../storage-audits/missing-on-disk.js';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * The volume is READY again either way; the job and the event say whether its data went back. A snapshot the
 * agent found missing on disk (SNAPSHOT_MISSING) becomes ERROR, so it is not offered again.
 */
export class RevertSnapshotApplier implements JobOutcomeApplier<JobName.REVERT_SNAPSHOT> {
  readonly jobName = JobName.REVERT_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.REVERT_SNAPSHOT>,
    outcome: JobOutcome<JobName.REVERT_SNAPSHOT>,
  ): Promise<void> {
    const { volumeId, snapshotId } = job.payload;
    expectMoved(job, 'volume', await tx.volumes.transition(volumeId, [VolumeState.REVERTING], VolumeState.READY));
    await tx.volumes.markContentsReplaced([volumeId], new Date());
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'volume.reverted' : 'volume.revert_failed',
      resourceType: 'Volume',
      resourceId: volumeId,
      message: outcome.ok ? `Volume reverted to snapshot ${snapshotId}` : `Revert failed: ${outcome.message}`,
      details: { jobId: job.id, snapshotId },
    });
    if (!outcome.ok && outcome.reason === JobFailureReason.SNAPSHOT_MISSING)
      await snapshotMissingOnDisk(tx, job, snapshotId, new Date());
  }
}
