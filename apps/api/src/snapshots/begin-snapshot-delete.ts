import { JobName } from '@snapdeck/contracts';
import { conflict, preconditionFailed, SnapshotState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type Repositories, type SnapshotEntity } from '@snapdeck/persistence';
import { assertHostUp } from '../common/hosts.js';
import { openJob } from '../orchestration/open-job.js';
import { isCopySource } from './copy-source.js';
import type { SnapshotOperation } from './snapshot-operation.js';

/**
 * The one way a volume snapshot's delete starts, by hand (deleteSnapshot) or by a policy's retention: inside the
 * caller's transaction, the snapshot (already found within the caller's scope) COMPLETED/ERROR→DESTROYING with a
 * DELETE_SNAPSHOT job; the caller sends it once it commits and the row goes when the agent confirms. A protected
 * snapshot is PRECONDITION_FAILED.
 */
export async function beginSnapshotDelete(
  tx: Repositories,
  by: { userId: string | null },
  found: SnapshotEntity,
): Promise<SnapshotOperation & { hostName: string }> {
  // Exclusive until commit: a copy of this snapshot accepted meanwhile has committed its volume or template
  // row by the time this lock is granted (and is refused below), or it waits and then sees DESTROYING.
  const snapshot = await tx.snapshots.lock(found.id, 'update');
  if (!snapshot) throw conflict('The snapshot was deleted meanwhile');
  if (snapshot.protected) {
    throw preconditionFailed(`Snapshot ${snapshot.name} is protected: unprotect it (setSnapshotProtection) first`);
  }
  if (snapshot.state === SnapshotState.IN_PROGRESS) throw conflict('A snapshot in progress cannot be deleted');
  if (snapshot.state === SnapshotState.DESTROYING) throw conflict('The snapshot is being deleted already');
  if (await isCopySource(tx, snapshot.id)) {
    throw conflict('The snapshot is being copied into a template or a volume: wait for the copy to finish');
  }
  const volume = (await tx.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
  const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'snapshot');
  const job = await openJob(tx, by, host, ['Snapshot', snapshot], JobName.DELETE_SNAPSHOT, {
    volumeId: volume.id,
    snapshotId: snapshot.id,
  });
  const moved = await tx.snapshots.transition(
    snapshot.id,
    [SnapshotState.COMPLETED, SnapshotState.ERROR],
    SnapshotState.DESTROYING,
    { lastJobId: job.id },
  );
  if (!moved) throw conflict('The snapshot changed meanwhile; try again');
  const destroying = (await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshot.id))!;
  return { snapshot: destroying, job, hostName: host.name };
}
