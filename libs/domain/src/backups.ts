/**
 * Rules of backups (issue 13) that are not a state machine: what a backup job may wait on its storage, and what a
 * backup holds against the organization's backupGiB limit before its size is known.
 */

/** The agent probes a backup storage (a write and a read) within this: a dead mount fails the job, never hangs it. */
export const BACKUP_PROBE_TIMEOUT_SECONDS = 15;

/**
 * What a backup being written holds against backupGiB: the virtual size of every disk it copies, the most a full
 * backup can occupy (compression and sparse files only make it smaller). Reserved at createBackup, in the
 * transaction that inserts the row, so concurrent backups can never pass the limit together; replaced by the
 * bytes actually written once the backup is READY, and by nothing once it is ERROR (its folder is removed).
 */
export function backupReservationGiB(volumes: readonly { sizeGiB: number }[]): number {
  return volumes.reduce((sum, v) => sum + v.sizeGiB, 0);
}
