import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobOf, type Repositories } from '@snapdeck/persistence';
import { backupEvent } from '../../backups/backup-events.js';
import { expectMoved } from './expect-moved.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';
import { finishProvisioning } from './provisioning.js';

/**
 * Into a new instance (overwrite false): its volumes READY and the instance STOPPED, or all ERROR, as any
 * provisioning ends. Over the backup's own stopped instance (overwrite true): its volumes, REVERTING while they
 * were written, are READY again either way; after a failure the safety snapshots taken before hold what they
 * held. Either way `restore.completed` or `restore.failed` tells the backup's notify addresses.
 */
export class RestoreBackupApplier implements JobOutcomeApplier<JobName.RESTORE_BACKUP> {
  readonly jobName = JobName.RESTORE_BACKUP;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.RESTORE_BACKUP>,
    outcome: JobOutcome<JobName.RESTORE_BACKUP>,
  ): Promise<void> {
    const { instanceId, targets, overwrite, chain } = job.payload;
    const volumeIds = targets.map((t) => t.volumeId);
    if (overwrite) {
      expectMoved(
        job,
        'volumes',
        await tx.volumes.transitionMany(volumeIds, [VolumeState.REVERTING], VolumeState.READY),
        volumeIds.length,
      );
      await tx.volumes.markContentsReplaced(volumeIds, new Date());
    } else {
      await finishProvisioning(tx, job, volumeIds, outcome);
    }
    const backup = await tx.backups.findById(ALL_ORGANIZATIONS, chain[0].backupId);
    if (!backup) return;
    const instance = await tx.instances.findById(ALL_ORGANIZATIONS, instanceId);
    const into = overwrite ? `over instance ${instance?.name ?? instanceId}` : `into new instance ${instance?.name}`;
    await tx.events.record(
      outcome.ok
        ? backupEvent(job, backup, 'restore.completed', `Backup ${backup.name} restored ${into}`, { instanceId })
        : backupEvent(
            job,
            backup,
            'restore.failed',
            `Restore of backup ${backup.name} ${into} failed: ${outcome.message}`,
            {
              instanceId,
              error: outcome.message,
            },
          ),
    );
  }
}
