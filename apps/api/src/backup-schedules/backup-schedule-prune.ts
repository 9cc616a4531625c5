import { DomainError, markBackupsForPrune, PolicyRunStatus } from '@snapdeck/domain';
import type { BackupEntity, BackupScheduleEntity, Repositories } from '@snapdeck/persistence';
import { beginBackupDelete } from '../backups/begin-backup-delete.js';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';

/**
 * A schedule's prune rules over its own READY backups of one instance (never a manual one, never another
 * schedule's), in the schedule's time zone: each backup marked `remove` goes through deleteBackup's path
 * (DESTROYING and a DELETE_BACKUP job, sent after commit), newest first so a removed child goes before its
 * removed parent. `needed` ones (a kept incremental is written on top of them) stay; one the delete path refuses
 * (a child still exists, being restored, no host UP) is left to the periodic pass, its savepoint undoing whatever
 * its attempt wrote.
 */
export async function pruneScheduleInstance(
  tx: Repositories,
  schedule: BackupScheduleEntity,
  instanceId: string,
): Promise<FollowUpJob[]> {
  const backups = await tx.backupSchedules.readyBackupsOf(schedule.id, instanceId);
  const marks = markBackupsForPrune(backups, schedule.retention, schedule.timezone);
  const deletes: FollowUpJob[] = [];
  for (const backup of backups.filter((b) => marks.get(b.id) === 'remove')) {
    try {
      const { operation, hostName } = await tx.savepoint(() => beginBackupDelete(tx, { userId: null }, backup));
      deletes.push({ job: operation.job, hostName });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return deletes;
}

/**
 * Locks the schedule of a backup about to settle, before its volumes' rows: the scheduler takes a schedule and
 * then its instances' volumes, so the applier takes them in the same order (no deadlock). Null for a manual one.
 */
export function lockScheduleOf(tx: Repositories, backup: BackupEntity): Promise<BackupScheduleEntity | null> {
  return backup.scheduleId ? tx.backupSchedules.lock(backup.scheduleId) : Promise.resolve(null);
}

/**
 * The end of a scheduled backup, in the transaction that settles it (CreateBackupApplier, the schedule locked by
 * lockScheduleOf): after a success its schedule prunes that instance's backups; after a failure the schedule's
 * lastStatus/lastError say so (the backup.failed event, to the schedule's addresses, is the applier's).
 */
export async function settleScheduledBackup(
  tx: Repositories,
  schedule: BackupScheduleEntity,
  backup: BackupEntity,
  outcome: { ok: boolean; message?: string },
): Promise<FollowUpJob[]> {
  if (!outcome.ok) {
    await tx.backupSchedules.update(schedule.id, {
      lastStatus: PolicyRunStatus.FAILED,
      lastError: `Backup ${backup.name} of instance ${backup.instanceName} failed: ${outcome.message ?? 'unknown error'}`,
    });
    return [];
  }
  // A disabled schedule keeps its backups, as a disabled snapshot policy does.
  return schedule.enabled && backup.instanceId ? pruneScheduleInstance(tx, schedule, backup.instanceId) : [];
}
