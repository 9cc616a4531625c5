import { PolicyRunStatus, SYSTEM_SCHEDULER_ACTOR } from '@snapdeck/domain';
import type { BackupScheduleEntity, Repositories } from '@snapdeck/persistence';

const TYPES = {
  SUCCEEDED: 'policy.run.succeeded',
  FAILED: 'policy.run.failed',
  SKIPPED: 'policy.run.skipped',
  MISSED: 'policy.run.missed',
} as const satisfies Record<PolicyRunStatus, string>;

export interface ScheduleEventFacts {
  status: PolicyRunStatus;
  scheduledAt: Date;
  /** The instance this is about (null: the whole occurrence). */
  instanceId?: string | null;
  error?: string | null;
  extra?: Record<string, unknown>;
}

/**
 * A backup schedule's occurrence as a `policy.run.*` event (the policy scheduler's types: webhooks and mails treat
 * both kinds of schedule alike), on the BackupSchedule resource, with the schedule's notify addresses. The
 * backups it started tell their own end (backup.completed / backup.failed, to the same addresses).
 */
export async function recordScheduleEvent(
  tx: Repositories,
  schedule: BackupScheduleEntity,
  facts: ScheduleEventFacts,
): Promise<void> {
  const when = facts.scheduledAt.toISOString();
  const what = facts.status.toLowerCase();
  await tx.events.record({
    organizationId: schedule.organizationId,
    actorUserId: null,
    type: TYPES[facts.status],
    resourceType: 'BackupSchedule',
    resourceId: schedule.id,
    message: facts.error
      ? `Backup schedule run of ${when} ${what}: ${facts.error}`
      : `Backup schedule run of ${when} ${what}`,
    details: {
      actor: SYSTEM_SCHEDULER_ACTOR,
      policyId: schedule.id,
      backupScheduleId: schedule.id,
      ...(facts.instanceId ? { instanceId: facts.instanceId } : {}),
      scheduledAt: when,
      status: facts.status,
      error: facts.error ?? null,
      notify: schedule.notify,
      ...facts.extra,
    },
  });
}
