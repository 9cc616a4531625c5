import type { PolicyRunStatus } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type Repositories, type SnapshotPolicyEntity } from '@snapdeck/persistence';

/** Who runs policies: the events' actor (no user). */
export const SCHEDULER_ACTOR = 'system:scheduler';

const TYPES = {
  SUCCEEDED: 'policy.run.succeeded',
  FAILED: 'policy.run.failed',
  SKIPPED: 'policy.run.skipped',
  MISSED: 'policy.run.missed',
} as const satisfies Record<PolicyRunStatus, string>;

export interface RunEventFacts {
  status: PolicyRunStatus;
  scheduledAt: Date;
  error?: string | null;
  snapshotId?: string | null;
  /** The volume's instance as it is now (null: detached, or the volume is gone). */
  instanceId: string | null;
  /** Anything more the type documents (attempt, retryAt, …). */
  extra?: Record<string, unknown>;
}

/**
 * One `policy.run.*` event, in the shape the notifications read: the policy, its volume and instance, the
 * scheduled time (RFC 3339 UTC), the status, the error, the snapshot and the policy's notify addresses.
 */
export async function recordRunEvent(
  tx: Repositories,
  policy: SnapshotPolicyEntity,
  facts: RunEventFacts,
): Promise<void> {
  const when = facts.scheduledAt.toISOString();
  await tx.events.record({
    organizationId: policy.organizationId,
    actorUserId: null,
    type: TYPES[facts.status],
    resourceType: 'SnapshotPolicy',
    resourceId: policy.id,
    message: facts.error
      ? `Policy run of ${when} ${facts.status.toLowerCase()}: ${facts.error}`
      : `Policy run of ${when} ${facts.status.toLowerCase()}`,
    details: {
      actor: SCHEDULER_ACTOR,
      policyId: policy.id,
      volumeId: policy.volumeId,
      instanceId: facts.instanceId,
      scheduledAt: when,
      status: facts.status,
      error: facts.error ?? null,
      ...(facts.snapshotId ? { snapshotId: facts.snapshotId } : {}),
      notify: policy.notify,
      ...facts.extra,
    },
  });
}

/** The volume's instance now, for an event (null when detached or gone). */
export async function instanceOfVolume(tx: Repositories, policy: SnapshotPolicyEntity): Promise<string | null> {
  return (await tx.volumes.findById(ALL_ORGANIZATIONS, policy.volumeId))?.instanceId ?? null;
}
