import { EventType, InstanceState, SnapshotState, VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type JobEntity, type Repositories } from '@snapdeck/persistence';
import type { Finding } from './compare-inventory.js';

/** The error a snapshot, recovery point or volume carries once the disk is known to lack it. */
export function missingSince(since: Date): string {
  return `missing on disk since ${since.toISOString()}`;
}

/**
 * A COMPLETED snapshot whose tag the disk lacks becomes ERROR ("missing on disk since …"), with the tenant's
 * `snapshot.failed` event (what its notification hangs on). False when it was not COMPLETED (nothing moves).
 */
export async function snapshotMissingOnDisk(
  tx: Repositories,
  job: JobEntity,
  snapshotId: string,
  since: Date,
): Promise<boolean> {
  const snapshot = await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshotId);
  if (!snapshot) return false;
  const error = missingSince(since);
  if (!(await tx.snapshots.transition(snapshotId, [SnapshotState.COMPLETED], SnapshotState.ERROR, { error })))
    return false;
  await tx.events.record({
    organizationId: snapshot.organizationId,
    actorUserId: job.createdByUserId,
    type: EventType.SNAPSHOT_FAILED,
    resourceType: 'Snapshot',
    resourceId: snapshotId,
    message: `Snapshot ${snapshot.name} is ${error}`,
    details: { jobId: job.id, volumeId: snapshot.volumeId, reason: 'missing-on-disk' },
  });
  return true;
}

/** The same for a recovery point whose tag one of its disks lacks. */
export async function recoveryPointMissingOnDisk(
  tx: Repositories,
  job: JobEntity,
  instanceSnapshotId: string,
  since: Date,
): Promise<boolean> {
  const point = await tx.instanceSnapshots.findById(ALL_ORGANIZATIONS, instanceSnapshotId);
  if (!point) return false;
  const error = missingSince(since);
  const moved = await tx.instanceSnapshots.transition(
    instanceSnapshotId,
    [SnapshotState.COMPLETED],
    SnapshotState.ERROR,
    { error },
  );
  if (!moved) return false;
  await tx.events.record({
    organizationId: point.organizationId,
    actorUserId: job.createdByUserId,
    type: EventType.INSTANCE_SNAPSHOT_FAILED,
    resourceType: 'InstanceSnapshot',
    resourceId: instanceSnapshotId,
    message: `Recovery point ${point.name} is ${error}`,
    details: { jobId: job.id, instanceId: point.instanceId, reason: 'missing-on-disk' },
  });
  return true;
}

/**
 * A READY volume whose file is gone becomes ERROR, and so does its instance (STOPPED or RUNNING): it cannot
 * start, stop or snapshot without that disk, and ERROR is what lets it be destroyed. Volumes and instances have
 * no error column: the events say why.
 */
export async function volumeMissingOnDisk(
  tx: Repositories,
  job: JobEntity,
  volumeId: string,
  since: Date,
): Promise<boolean> {
  const volume = await tx.volumes.findById(ALL_ORGANIZATIONS, volumeId);
  if (!volume || !(await tx.volumes.transition(volumeId, [VolumeState.READY], VolumeState.ERROR))) return false;
  const error = missingSince(since);
  await tx.events.record({
    organizationId: volume.organizationId,
    actorUserId: job.createdByUserId,
    type: EventType.VOLUME_FAILED,
    resourceType: 'Volume',
    resourceId: volumeId,
    message: `Volume ${volume.name} is ${error}`,
    details: { jobId: job.id, reason: 'missing-on-disk' },
  });
  if (volume.instanceId) {
    const from = [InstanceState.STOPPED, InstanceState.RUNNING];
    if (await tx.instances.transition(volume.instanceId, from, InstanceState.ERROR)) {
      await tx.events.record({
        organizationId: volume.organizationId,
        actorUserId: job.createdByUserId,
        type: EventType.INSTANCE_FAILED,
        resourceType: 'Instance',
        resourceId: volume.instanceId,
        message: `Volume ${volume.name} of this instance is ${error}`,
        details: { jobId: job.id, volumeId, reason: 'missing-on-disk' },
      });
    }
  }
  return true;
}

/** A repairing audit's certain repairs: every missing snapshot, recovery point and volume it found is ERROR. */
export async function markMissing(tx: Repositories, job: JobEntity, findings: Finding[], since: Date): Promise<void> {
  for (const finding of findings) {
    if (finding.kind === 'missing_snapshot') await snapshotMissingOnDisk(tx, job, finding.snapshotId!, since);
    if (finding.kind === 'missing_recovery_point')
      await recoveryPointMissingOnDisk(tx, job, finding.instanceSnapshotId!, since);
    if (finding.kind === 'missing_volume') await volumeMissingOnDisk(tx, job, finding.volumeId!, since);
  }
}
