import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { SnapshotState, VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { continuePendingRestore } from '../../backups/continue-pending-restore.js';
import { lockPolicyOf, settlePolicyRun } from '../../snapshot-policies/policy-run-outcome.js';
import { expectMoved } from './expect-moved.js';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';

export class CreateSnapshotApplier implements JobOutcomeApplier<JobName.CREATE_SNAPSHOT> {
  readonly jobName = JobName.CREATE_SNAPSHOT;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.CREATE_SNAPSHOT>,
    outcome: JobOutcome<JobName.CREATE_SNAPSHOT>,
  ): Promise<FollowUpJob[]> {
    const { volumeId, snapshotId } = job.payload;
    const row = await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshotId);
    const policyId = row?.policyId ?? null;
    // Before the volume's row, as the scheduler takes them (see lockPolicyOf).
    const policy = await lockPolicyOf(tx, policyId);
    // A safety snapshot: its instance before the volume's row, as every instance operation takes them.
    if (row?.pendingRestoreBackupId && row.instanceId) await tx.instances.lock(row.instanceId, 'update');
    const snapshot = outcome.ok
      ? // An agent that does not say (before 0.3) did not quiesce.
        {
          to: SnapshotState.COMPLETED,
          changes: { completedAt: new Date(), error: null, quiesced: outcome.data.quiesced ?? false },
        }
      : { to: SnapshotState.ERROR, changes: { error: outcome.message } };
    expectMoved(
      job,
      'snapshot',
      await tx.snapshots.transition(snapshotId, [SnapshotState.IN_PROGRESS], snapshot.to, snapshot.changes),
    );
    expectMoved(job, 'volume', await tx.volumes.transition(volumeId, [VolumeState.SNAPSHOTTING], VolumeState.READY));
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'snapshot.completed' : 'snapshot.failed',
      resourceType: 'Snapshot',
      resourceId: snapshotId,
      message: outcome.ok ? 'Snapshot completed' : `Snapshot failed: ${outcome.message}`,
      details: { jobId: job.id, volumeId, ...(policyId ? { policyId } : {}) },
    });
    // A safety snapshot of an in-place restore: the last one to settle starts the restore (or gives it up).
    const restore = await continuePendingRestore(tx, job, row);
    return [...(policy ? await settlePolicyRun(tx, policy, snapshotId, outcome) : []), ...restore];
  }
}
