import { JobName } from '@snapdeck/contracts';
import {
  BACKUP_PROBE_TIMEOUT_SECONDS,
  BackupState,
  diskOrder,
  HostState,
  InstanceState,
  SnapshotState,
  VolumeState,
} from '@snapdeck/domain';
import type { JobEntity, Repositories, SnapshotEntity } from '@snapdeck/persistence';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';
import { openJob } from '../orchestration/open-job.js';
import { backupEvent } from './backup-events.js';
import { restoreChain } from './backup-locations.js';

/**
 * Called by the applier of each safety snapshot of an in-place restore, once it has settled. The last of them to
 * settle (the instance's row lock makes "last" exact across concurrent appliers) starts the restore: the volumes,
 * READY again, go REVERTING and RESTORE_BACKUP writes over them (overwrite: true keeps the safety snapshots inside
 * the files). It gives the restore up instead, with a `restore.failed` event, when a safety snapshot failed or the
 * instance changed meanwhile (started, a disk added or busy, the backup gone): nothing is overwritten then.
 */
export async function continuePendingRestore(
  tx: Repositories,
  job: JobEntity,
  snapshot: Pick<SnapshotEntity, 'pendingRestoreBackupId' | 'instanceId'> | null,
): Promise<FollowUpJob[]> {
  const backupId = snapshot?.pendingRestoreBackupId;
  if (!backupId || !snapshot.instanceId) return [];
  const instance = await tx.instances.lock(snapshot.instanceId, 'update');
  const pending = await tx.snapshots.findPendingRestore(backupId, snapshot.instanceId);
  if (pending.some((s) => s.state === SnapshotState.IN_PROGRESS)) return [];
  await tx.snapshots.clearPendingRestore(pending.map((s) => s.id));
  const backup = await tx.backups.lock(backupId, 'share');
  if (!backup) return [];
  const volumes = instance ? diskOrder(await tx.volumes.findByInstance(instance.id)) : [];
  const held = new Set(backup.configuration.volumes.map((v) => v.volumeId));
  const host = instance?.hostId ? await tx.hosts.findById(instance.hostId) : null;
  const refusal = !instance
    ? 'the instance is gone'
    : pending.length !== held.size || pending.some((s) => s.state !== SnapshotState.COMPLETED)
      ? 'a safety snapshot of its disks failed or was deleted'
      : instance.state !== InstanceState.STOPPED
        ? `instance ${instance.name} is ${instance.state}, not STOPPED`
        : volumes.length !== held.size || volumes.some((v) => !held.has(v.id) || v.state !== VolumeState.READY)
          ? `the disks of instance ${instance.name} changed or are busy`
          : backup.state !== BackupState.READY
            ? `backup ${backup.name} is ${backup.state}`
            : host?.state !== HostState.UP
              ? 'the host of the instance is down'
              : null;
  if (refusal !== null || !instance || !host) {
    const error = `Nothing was restored: ${refusal}`;
    await tx.events.record(
      backupEvent(job, backup, 'restore.failed', `Restore of backup ${backup.name} failed: ${error}`, {
        instanceId: snapshot.instanceId,
        error,
      }),
    );
    return [];
  }
  const volumeIds = volumes.map((v) => v.id);
  if ((await tx.volumes.transitionMany(volumeIds, [VolumeState.READY], VolumeState.REVERTING)) !== volumeIds.length) {
    throw new Error(`the volumes of instance ${instance.id} moved under its lock`);
  }
  const restore = await openJob(
    tx,
    { userId: job.createdByUserId },
    host,
    ['Instance', instance],
    JobName.RESTORE_BACKUP,
    {
      chain: await restoreChain(tx, backup),
      instanceId: instance.id,
      targets: volumes.map((v) => ({ sourceVolumeId: v.id, volumeId: v.id, sizeGiB: v.sizeGiB })),
      overwrite: true,
      probeTimeoutSeconds: BACKUP_PROBE_TIMEOUT_SECONDS,
    },
  );
  return [{ job: restore, hostName: host.name }];
}
