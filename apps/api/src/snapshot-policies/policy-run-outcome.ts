import { PolicyRunState, PolicyRunStatus } from '@snapdeck/domain';
import type { Repositories, SnapshotPolicyEntity } from '@snapdeck/persistence';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';
import { prunePolicy } from './policy-retention.js';
import { instanceOfVolume, recordRunEvent } from './policy-run-events.js';
import { PolicySchedule } from './schedule.js';

/**
 * Locks the policy of a snapshot that is about to settle, before its volume row: the scheduler takes a policy
 * and then its volume, so the applier must take them in the same order (no deadlock).
 */
export function lockPolicyOf(tx: Repositories, policyId: string | null): Promise<SnapshotPolicyEntity | null> {
  return policyId ? tx.snapshotPolicies.lock(policyId) : Promise.resolve(null);
}

/**
 * The end of a policy run, in the transaction that settles its snapshot: the run SUCCEEDED or FAILED, the
 * policy's last*, the `policy.run.*` event, and after a success the retention (its deletes are follow-up jobs).
 * A failure asks the scheduler for a retry of the same occurrence (retry_of, due now): the scheduler decides,
 * with POLICY_MAX_RETRIES and the back-off, whether and when it runs, never past the next occurrence.
 */
export async function settlePolicyRun(
  tx: Repositories,
  policy: SnapshotPolicyEntity,
  snapshotId: string,
  outcome: { ok: true } | { ok: false; message: string },
  now = new Date(),
): Promise<FollowUpJob[]> {
  const run = await tx.policyRuns.findBySnapshot(snapshotId);
  if (!run || run.state !== PolicyRunState.RUNNING) return [];
  const status = outcome.ok ? PolicyRunStatus.SUCCEEDED : PolicyRunStatus.FAILED;
  const error = outcome.ok ? null : outcome.message;
  await tx.policyRuns.transition(
    run.id,
    [PolicyRunState.RUNNING],
    outcome.ok ? PolicyRunState.SUCCEEDED : PolicyRunState.FAILED,
    {
      error,
      finishedAt: now,
    },
  );
  await tx.snapshotPolicies.update(policy.id, { lastRunAt: run.scheduledAt, lastStatus: status, lastError: error });
  const retry = !outcome.ok && policy.enabled && (await askForRetry(tx, policy, run.scheduledAt, now));
  await recordRunEvent(tx, policy, {
    status,
    scheduledAt: run.scheduledAt,
    error,
    snapshotId,
    instanceId: await instanceOfVolume(tx, policy),
    extra: { attempt: run.attempts, ...(outcome.ok ? {} : { retrying: retry }) },
  });
  return outcome.ok ? prunePolicy(tx, policy.id, policy.keep) : [];
}

/** Only while the policy has not moved on to a later occurrence's retry, and the next occurrence is ahead. */
async function askForRetry(tx: Repositories, policy: SnapshotPolicyEntity, occurrence: Date, now: Date) {
  if (policy.retryOf && policy.retryOf.getTime() !== occurrence.getTime()) return false;
  const next = PolicySchedule.of(policy.schedule, policy.timezone).next(occurrence);
  if (next && next.getTime() <= now.getTime()) return false;
  await tx.snapshotPolicies.update(policy.id, { retryOf: occurrence, nextRunAt: now });
  return true;
}
