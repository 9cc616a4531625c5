import { JobName } from '@snapdeck/contracts';
import { BACKUP_PROBE_TIMEOUT_SECONDS, BackupState, conflict, HostState, preconditionFailed } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type BackupEntity, type HostEntity, type Repositories } from '@snapdeck/persistence';
import { openJob } from '../orchestration/open-job.js';
import { backupLocation } from './backup-locations.js';
import type { BackupOperation } from './begin-backup.js';

/**
 * deleteBackup's rules in the caller's transaction: DESTROYING now, gone once its folder is removed. CONFLICT
 * while it is CREATING or DESTROYING or being restored; PRECONDITION_FAILED, naming them, while incremental
 * backups depend on it. `by`: a user, or the scheduler's prune (userId null).
 */
export async function beginBackupDelete(
  tx: Repositories,
  by: { userId: string | null },
  found: BackupEntity,
): Promise<{ operation: BackupOperation; hostName: string }> {
  // Exclusive until commit: a new incremental on it, or a restore of it, is committed (and seen below) or waits.
  const backup = (await tx.backups.lock(found.id, 'update'))!;
  if (backup.state === BackupState.CREATING) throw conflict(`Backup ${backup.name} is being created: wait for it`);
  if (backup.state === BackupState.DESTROYING) throw conflict(`Backup ${backup.name} is being deleted already`);
  const children = await tx.backups.findChildren(backup.id);
  if (children.length > 0) {
    throw preconditionFailed(
      `Backup ${backup.name} is the parent of incremental backup(s) ${children.map((c) => c.name).join(', ')}: ` +
        'delete those first (the newest first)',
    );
  }
  if ((await tx.backups.isBeingRestored(backup.id)) || (await tx.snapshots.hasPendingRestore(backup.id))) {
    throw conflict(`Backup ${backup.name} is being restored: wait for the restore to finish`);
  }
  const storage = (await tx.backupStorages.findById(backup.storageId))!;
  const host = await anyUpHost(tx, backup.hostId);
  const job = await openJob(tx, by, host, ['Backup', backup], JobName.DELETE_BACKUP, {
    ...backupLocation(backup, storage),
    probeTimeoutSeconds: BACKUP_PROBE_TIMEOUT_SECONDS,
  });
  const moved = await tx.backups.transition(backup.id, [BackupState.READY, BackupState.ERROR], BackupState.DESTROYING, {
    jobId: job.id,
  });
  if (!moved) throw conflict('The backup changed meanwhile; try again');
  const destroying = (await tx.backups.findById(ALL_ORGANIZATIONS, backup.id))!;
  return { operation: { backup: destroying, job }, hostName: host.name };
}

/** Backup storages are shared: the backup's own host if it is UP, else the least loaded UP host. */
async function anyUpHost(tx: Repositories, preferredId: string | null): Promise<HostEntity> {
  const preferred = preferredId ? await tx.hosts.findById(preferredId) : null;
  if (preferred?.state === HostState.UP) return preferred;
  const host = await tx.hosts.findLeastLoadedUpHost();
  if (!host) throw preconditionFailed('No host is UP to work on the backup storage');
  return host;
}
