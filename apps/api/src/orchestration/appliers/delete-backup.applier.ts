import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { BackupState, backupStateAfterRefusedDelete } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

/** As for snapshots: the row goes once the folder is gone; a refused delete returns the backup where it was. */
export class DeleteBackupApplier implements JobOutcomeApplier<JobName.DELETE_BACKUP> {
  readonly jobName = JobName.DELETE_BACKUP;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.DELETE_BACKUP>,
    outcome: JobOutcome<JobName.DELETE_BACKUP>,
  ): Promise<void> {
    const { backupId } = job.payload;
    const backup = await tx.backups.findById(ALL_ORGANIZATIONS, backupId);
    if (outcome.ok) {
      expectMoved(job, 'backup', await tx.backups.remove(backupId, BackupState.DESTROYING));
    } else {
      const back = backupStateAfterRefusedDelete({ completedAt: backup?.completedAt ?? null });
      const moved = await tx.backups.transition(backupId, [BackupState.DESTROYING], back, {
        error: `Delete failed: ${outcome.message}`,
      });
      expectMoved(job, 'backup', moved);
    }
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: outcome.ok ? 'backup.deleted' : 'backup.delete_failed',
      resourceType: 'Backup',
      resourceId: backupId,
      message: !outcome.ok
        ? `Backup delete failed: ${outcome.message}`
        : outcome.data.alreadyGone
          ? 'Backup removed: its folder was already gone'
          : 'Backup deleted from its storage',
      details: {
        jobId: job.id,
        ...(backup ? { backupName: backup.name, instanceName: backup.instanceName } : {}),
        ...(outcome.ok ? { alreadyGone: outcome.data.alreadyGone } : { error: outcome.message }),
      },
    });
  }
}
