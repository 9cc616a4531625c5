import { JobName } from '@snapdeck/contracts';
import {
  autoSnapshotName,
  conflict,
  InstanceState,
  isBlankName,
  preconditionFailed,
  SnapshotState,
  uniqueName,
  VolumeState,
} from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, newId, type Repositories, type VolumeEntity } from '@snapdeck/persistence';
import { assertHostUp } from '../common/hosts.js';
import { enforceLimits } from '../common/limits.js';
import { volumeStateLabel } from '../instances/instance-disks.js';
import type { JobResource } from '../orchestration/open-job.js';
import { openJob } from '../orchestration/open-job.js';
import type { SnapshotOperation } from './snapshot-operation.js';

export interface SnapshotRequest {
  name?: string | null;
  description?: string | null;
  quiesce?: boolean | null;
  /** The policy whose occurrence this is (a scheduled snapshot). */
  policyId?: string | null;
  /** A safety snapshot an in-place restore of this backup waits for (restoreBackup). */
  pendingRestoreBackupId?: string | null;
}

/**
 * The one way a volume snapshot starts, by hand (createSnapshot) or by a policy: inside the caller's
 * transaction, the volume READY→SNAPSHOTTING (or CONFLICT), the limits (common/limits.ts), the snapshot
 * IN_PROGRESS and its Job PENDING; the caller sends the job once it commits. A volume of a RUNNING instance is
 * snapshotted live (the job names the instance); one of an instance that is STARTING or STOPPING is CONFLICT, its
 * disk is changing hands. `quiesce` needs a RUNNING instance (its guest agent freezes the filesystems):
 * PRECONDITION_FAILED otherwise.
 */
export async function beginSnapshot(
  tx: Repositories,
  by: { userId: string | null },
  volume: VolumeEntity,
  request: SnapshotRequest,
): Promise<SnapshotOperation & { hostName: string }> {
  // Shared until commit, taken before the volume's row: a start, stop or instance snapshot of the instance
  // (which lock it for update) cannot pass this check unseen.
  const instance = volume.instanceId ? await tx.instances.lock(volume.instanceId, 'share') : null;
  if (instance && (instance.state === InstanceState.STARTING || instance.state === InstanceState.STOPPING)) {
    throw conflict(`Instance ${instance.name} is ${instance.state}: its disks are changing hands; try again after`);
  }
  const quiesce = request.quiesce ?? false;
  if (quiesce && instance?.state !== InstanceState.RUNNING) {
    throw preconditionFailed(
      `quiesce needs a running instance with a guest agent: ${
        instance ? `instance ${instance.name} is ${instance.state}` : `volume ${volume.name} is detached`
      }`,
    );
  }
  const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'volume');
  if (!(await tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.SNAPSHOTTING))) {
    const current = (await tx.volumes.findById(ALL_ORGANIZATIONS, volume.id)) ?? volume;
    throw conflict(`Volume ${volume.name} is ${volumeStateLabel(current)}: one operation per volume at a time`);
  }
  const snapshotId = newId();
  const name = isBlankName(request.name) ? await autoName(tx, volume, instance?.name ?? null) : request.name!;
  const resource: JobResource = ['Snapshot', { id: snapshotId, organizationId: volume.organizationId }];
  const job = await openJob(tx, by, host, resource, JobName.CREATE_SNAPSHOT, {
    volumeId: volume.id,
    snapshotId,
    ...(instance ? { instanceId: instance.id } : {}),
    quiesce,
  });
  // Last before the insert it guards, so the per-organization lock (taken only when a limit is set) is held
  // for the count, one insert and the commit. A snapshot counts its volume's virtual size, as Cinder does.
  await enforceLimits(
    tx,
    volume.organizationId,
    { snapshots: 1, snapshotGiB: volume.sizeGiB },
    { actor: by.userId ?? 'system:scheduler', volumeId: volume.id, ...(instance ? { instanceId: instance.id } : {}) },
  );
  const snapshot = await tx.snapshots.create({
    id: snapshotId,
    organizationId: volume.organizationId,
    environmentId: volume.environmentId,
    volumeId: volume.id,
    instanceId: volume.instanceId,
    name,
    description: request.description ?? null,
    state: SnapshotState.IN_PROGRESS,
    lastJobId: job.id,
    policyId: request.policyId ?? null,
    pendingRestoreBackupId: request.pendingRestoreBackupId ?? null,
  });
  return { snapshot, job, hostName: host.name };
}

/** CloudStack's format; `-2`, `-3`… when one volume gets two snapshots within a second. */
async function autoName(tx: Repositories, volume: VolumeEntity, instanceName: string | null): Promise<string> {
  const base = autoSnapshotName(instanceName, volume.name, new Date());
  return uniqueName(base, await tx.snapshots.namesOnVolumeStartingWith(volume.id, base));
}
