import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { BackupState, InstanceState, VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type BackupConfiguration, type JobOf, type Repositories } from '@snapdeck/persistence';
import { backupEvent, readableDuration, readableSize } from '../../backups/backup-events.js';
import { expectMoved } from './expect-moved.js';
import { lockScheduleOf, settleScheduledBackup } from '../../backup-schedules/backup-schedule-prune.js';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * The backup is READY with what the agent wrote (its size, the manifest's volumes in its configuration, full or
 * incremental as the manifest says), or
 * ERROR with the agent's message (also when the reconciler gave up on the job: no backup stays CREATING). The
 * instance's volumes, kept SNAPSHOTTING for the backup's duration, are READY again either way.
 */
export class CreateBackupApplier implements JobOutcomeApplier<JobName.CREATE_BACKUP> {
  readonly jobName = JobName.CREATE_BACKUP;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.CREATE_BACKUP>,
    outcome: JobOutcome<JobName.CREATE_BACKUP>,
  ): Promise<FollowUpJob[]> {
    const { backupId, volumes } = job.payload;
    const backup = await tx.backups.findById(ALL_ORGANIZATIONS, backupId);
    // Before the volumes' rows, as the scheduler takes them (see lockScheduleOf).
    const schedule = backup ? await lockScheduleOf(tx, backup) : null;
    const volumeIds = volumes.map((v) => v.volumeId);
    expectMoved(
      job,
      'volumes',
      await tx.volumes.transitionMany(volumeIds, [VolumeState.SNAPSHOTTING], VolumeState.READY),
      volumeIds.length,
    );
    if (!backup) {
      expectMoved(job, 'backup', false);
      return [];
    }
    if (outcome.ok) {
      const { manifest, sizeBytes, guestPausedMs } = outcome.data;
      const configuration: BackupConfiguration = {
        ...backup.configuration,
        volumes: backup.configuration.volumes.map((v) => {
          const written = manifest.volumes.find((m) => m.volumeId === v.volumeId);
          return written
            ? {
                ...v,
                file: written.file,
                sha256: written.sha256,
                virtualSizeBytes: written.virtualSizeBytes,
                sizeBytes: written.sizeBytes,
                backingFile: written.backingFile,
              }
            : v;
        }),
        instanceWasRunning: manifest.instanceWasRunning,
        quiesced: manifest.quiesced,
        startedAt: manifest.startedAt,
        completedAt: manifest.completedAt,
        guestPausedMs,
      };
      // What was written is what the manifest says: an agent that wrote a full copy although a parent was named
      // (it could not trust the chain) leaves a backup that depends on nothing.
      const parentId = manifest.incremental ? manifest.parentBackupId : null;
      const chainChanged = parentId !== backup.parentId;
      const moved = await tx.backups.transition(backupId, [BackupState.CREATING], BackupState.READY, {
        incremental: parentId !== null,
        parentId,
        ...(chainChanged && parentId === null
          ? {
              chainLength: 1,
              fullReason: 'the parent backup is gone from its storage or damaged: the agent wrote a full copy',
            }
          : {}),
        sizeBytes,
        completedAt: new Date(),
        configuration,
        error: null,
      });
      expectMoved(job, 'backup', moved);
      await this.settleInstance(tx, job, outcome.data.instanceRunning);
      const took = readableDuration(Date.now() - job.createdAt.getTime());
      await tx.events.record(
        backupEvent(
          job,
          backup,
          'backup.completed',
          `Backup ${backup.name} of instance ${backup.instanceName} completed: ${readableSize(sizeBytes)} in ${took}`,
          { sizeBytes },
        ),
      );
      return schedule ? settleScheduledBackup(tx, schedule, backup, outcome) : [];
    }
    const moved = await tx.backups.transition(backupId, [BackupState.CREATING], BackupState.ERROR, {
      error: outcome.message,
    });
    expectMoved(job, 'backup', moved);
    await tx.events.record(
      backupEvent(
        job,
        backup,
        'backup.failed',
        `Backup ${backup.name} of instance ${backup.instanceName} failed: ${outcome.message}`,
        { error: outcome.message },
      ),
    );
    return schedule ? settleScheduledBackup(tx, schedule, backup, outcome) : [];
  }

  /**
   * STOP and SUSPEND modes give a running guest back after the copy; one the agent could not start again is
   * reported (instanceRunning false), and the instance shows it: STOPPED, with an event saying why.
   */
  private async settleInstance(
    tx: Repositories,
    job: JobOf<JobName.CREATE_BACKUP>,
    instanceRunning: boolean,
  ): Promise<void> {
    if (instanceRunning) return;
    const { instanceId } = job.payload;
    if (!(await tx.instances.transition(instanceId, [InstanceState.RUNNING], InstanceState.STOPPED))) return;
    await tx.events.record({
      organizationId: job.organizationId,
      actorUserId: job.createdByUserId,
      type: 'instance.stopped',
      resourceType: 'Instance',
      resourceId: instanceId,
      message: 'The instance did not run again after its backup: start it',
      details: { jobId: job.id, backupId: job.payload.backupId },
    });
  }
}
