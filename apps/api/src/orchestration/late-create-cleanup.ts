import { JobName, type JobOutcome, type OrphanTag } from '@snapdeck/contracts';
import { SnapshotState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, isJob, type JobEntity, type Repositories } from '@snapdeck/persistence';
import type { FollowUpJob } from './appliers/job-outcome-applier.js';
import { openFollowUp } from './open-job.js';

/**
 * A create whose job was failed (its agent frozen or cut off past the lease) may still finish, and its late
 * result says the tags are on disk for a row that is ERROR, or gone since. They are removed at once, by
 * REPAIR_STORAGE on that host (the delete's idempotent driver operation), so the disks agree with the database
 * without waiting for the next storage audit, which finds them too should this job be lost.
 */
export async function openLateCreateCleanup(
  tx: Repositories,
  job: JobEntity,
  outcome: JobOutcome,
): Promise<FollowUpJob | null> {
  if (!outcome.ok) return null;
  const tags = await strayTags(tx, job);
  if (tags.length === 0) return null;
  const host = job.hostId ? await tx.hosts.findById(job.hostId) : null;
  if (!host) return null;
  const repair = await openFollowUp(tx, job, host, JobName.REPAIR_STORAGE, {
    tags,
    volumeIds: [],
    templateIds: [],
    transferPaths: [],
  });
  return { job: repair, hostName: host.name };
}

/** The tags a late create wrote whose row no longer stands for them (ERROR: "not on disk", or no row). */
async function strayTags(tx: Repositories, job: JobEntity): Promise<OrphanTag[]> {
  const unowned = (row: { state: SnapshotState } | null) => row === null || row.state === SnapshotState.ERROR;
  if (isJob(job, JobName.CREATE_SNAPSHOT)) {
    const { volumeId, snapshotId, instanceId } = job.payload;
    if (!unowned(await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshotId))) return [];
    return [{ volumeId, tag: snapshotId, ...(instanceId ? { instanceId } : {}) }];
  }
  if (isJob(job, JobName.CREATE_INSTANCE_SNAPSHOT)) {
    const { instanceId, volumeIds, instanceSnapshotId } = job.payload;
    if (!unowned(await tx.instanceSnapshots.findById(ALL_ORGANIZATIONS, instanceSnapshotId))) return [];
    return volumeIds.map((volumeId) => ({ volumeId, tag: instanceSnapshotId, instanceId }));
  }
  return [];
}
