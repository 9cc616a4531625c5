import { DomainError } from '@snapdeck/domain';
import type { Repositories } from '@snapdeck/persistence';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';
import { beginSnapshotDelete } from '../snapshots/begin-snapshot-delete.js';

/**
 * A policy's retention inside the caller's transaction: its own COMPLETED unprotected snapshots beyond `keep`,
 * oldest first, each through the normal delete (DESTROYING and a DELETE_SNAPSHOT job, sent after commit). One
 * that cannot be deleted now (host down, being copied) is left for the periodic pass; its savepoint undoes
 * whatever its attempt wrote. The caller holds the policy's row lock, so two replicas never prune one policy at
 * once.
 */
export async function prunePolicy(tx: Repositories, policyId: string, keep: number): Promise<FollowUpJob[]> {
  const deletes: FollowUpJob[] = [];
  for (const snapshot of await tx.snapshots.beyondKeep(policyId, keep)) {
    try {
      const { job, hostName } = await tx.savepoint(() => beginSnapshotDelete(tx, { userId: null }, snapshot));
      deletes.push({ job, hostName });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return deletes;
}
