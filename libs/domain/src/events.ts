/**
 * Every type of audit event the api records, `<resource>.<what happened>`. The string is what the events table
 * holds; GraphQL shows the key (`SNAPSHOT_COMPLETED`). Adding a type is one line here: `events.record` accepts
 * only these strings, so a new one fails to compile until it is listed.
 */
export enum EventType {
  SNAPSHOT_COMPLETED = 'snapshot.completed',
  SNAPSHOT_FAILED = 'snapshot.failed',
  SNAPSHOT_DELETED = 'snapshot.deleted',
  SNAPSHOT_DELETE_FAILED = 'snapshot.delete_failed',
  VOLUME_CREATED = 'volume.created',
  VOLUME_FAILED = 'volume.failed',
  VOLUME_REVERTED = 'volume.reverted',
  VOLUME_REVERT_FAILED = 'volume.revert_failed',
  INSTANCE_CREATED = 'instance.created',
  INSTANCE_FAILED = 'instance.failed',
  INSTANCE_STARTED = 'instance.started',
  INSTANCE_START_FAILED = 'instance.start_failed',
  INSTANCE_STOPPED = 'instance.stopped',
  INSTANCE_STOP_FAILED = 'instance.stop_failed',
  INSTANCE_REVERTED = 'instance.reverted',
  INSTANCE_REVERT_FAILED = 'instance.revert_failed',
  INSTANCE_DESTROYED = 'instance.destroyed',
  INSTANCE_DESTROY_FAILED = 'instance.destroy_failed',
  /** In the organization that holds a clone of another organization's snapshot, on the clone: only what it owns. */
  INSTANCE_CLONED_ACROSS_ORGANIZATIONS = 'instance.cloned_across_organizations',
  /** In the customer's organization, on its snapshot: who (support staff) copied its data out, and when. */
  SNAPSHOT_CLONED_BY_SUPPORT = 'snapshot.cloned_by_support',
  INSTANCE_SNAPSHOT_COMPLETED = 'instance_snapshot.completed',
  INSTANCE_SNAPSHOT_FAILED = 'instance_snapshot.failed',
  INSTANCE_SNAPSHOT_DELETED = 'instance_snapshot.deleted',
  INSTANCE_SNAPSHOT_DELETE_FAILED = 'instance_snapshot.delete_failed',
  TEMPLATE_CREATED = 'template.created',
  TEMPLATE_FAILED = 'template.failed',
  TEMPLATE_REGISTERED = 'template.registered',
  TEMPLATE_REFUSED = 'template.refused',
  TEMPLATE_DELETED = 'template.deleted',
  TEMPLATE_DELETE_FAILED = 'template.delete_failed',
  /** A storage audit finished; details: { hostId, jobId, counts, repair }. Platform event (no organization). */
  STORAGE_AUDIT_COMPLETED = 'storage.audit_completed',
  /** The INVENTORY job of a storage audit failed: nothing was compared. */
  STORAGE_AUDIT_FAILED = 'storage.audit_failed',
  /** Orphan tags or files one audit found (one event per audit); details: { hostId, orphans: [{ kind, ids, reason }] }. */
  STORAGE_ORPHAN_FOUND = 'storage.orphan_found',
  /** A COMPLETED snapshot or recovery point, or a READY volume, the disk lacks; on that resource, one per finding. */
  STORAGE_MISSING_FOUND = 'storage.missing_found',
  /** An image `qemu-img check` refuses (corrupt, unreadable); on the volume or template, one per finding. */
  STORAGE_DAMAGED_FOUND = 'storage.damaged_found',
  /** REPAIR_STORAGE removed what an audit found orphaned; details: { removed, failed }. */
  STORAGE_REPAIR_COMPLETED = 'storage.repair_completed',
  /** An agent repaired leaked clusters of an image it was writing when it last stopped. */
  VOLUME_IMAGE_REPAIRED = 'volume.image_repaired',
  /** An agent found an image it was writing when it last stopped damaged beyond -r leaks: the volume is ERROR. */
  VOLUME_IMAGE_DAMAGED = 'volume.image_damaged',
  /** createUser; details: { email, role }. */
  USER_CREATED = 'user.created',
  /** updateUser changed the role or disabled/enabled the user; details: { before: { role, disabled }, after }. */
  USER_UPDATED = 'user.updated',
  /** deleteUser; details: { email, role, removedTokenIds }. */
  USER_DELETED = 'user.deleted',
  /** createApiToken; details: { userId, name, expiresAt }. */
  API_TOKEN_CREATED = 'api_token.created',
  /** revokeApiToken; details: { userId, name }. */
  API_TOKEN_REVOKED = 'api_token.revoked',
  /** A policy's occurrence took its snapshot; details: { policyId, scheduledAt, snapshotId }. */
  POLICY_RUN_SUCCEEDED = 'policy.run.succeeded',
  /** A policy's occurrence failed (quota, host down, driver error); details: { policyId, scheduledAt, error, notify }. */
  POLICY_RUN_FAILED = 'policy.run.failed',
  /** An occurrence found its volume still busy and took nothing; details: { policyId, scheduledAt, reason, notify }. */
  POLICY_RUN_SKIPPED = 'policy.run.skipped',
  /** Occurrences that passed while no scheduler ran, beyond the one catch-up; details: { policyId, scheduledAt, notify }. */
  POLICY_RUN_MISSED = 'policy.run.missed',
  /** A request was refused by a limit; details: { resource, limit, used, requested }. */
  QUOTA_EXCEEDED = 'quota.exceeded',
  /** A backup reached its storage; details: { backupId, instanceId, storageId, notify }. (Recorded from issue 13 on.) */
  BACKUP_COMPLETED = 'backup.completed',
  /** A backup failed; details: { backupId, instanceId, error, notify }. */
  BACKUP_FAILED = 'backup.failed',
  /** A backup's folder was removed and its row with it; details: { backupId, backupName, alreadyGone }. */
  BACKUP_DELETED = 'backup.deleted',
  /** A backup's delete was refused by its storage: it is back where it was; details: { backupId, error }. */
  BACKUP_DELETE_FAILED = 'backup.delete_failed',
  /** A backup was restored onto an instance; details: { backupId, instanceId, notify }. */
  RESTORE_COMPLETED = 'restore.completed',
  /** A restore failed; details: { backupId, instanceId, error, notify }. */
  RESTORE_FAILED = 'restore.failed',
  /**
   * A FINISHED result of an attempt that is no longer the job's (re-sent since, or failed by the reconciler): never
   * applied; details: { jobId, attempt, currentAttempt, jobStatus, ok, message }. A create it reports may have left
   * a tag on disk for a row that is ERROR: the storage audit finds it as an orphan.
   */
  JOB_LATE_RESULT = 'job.late_result',
}

/** An event type as the code writes it: one of EventType's strings (a literal such as 'snapshot.completed'). */
export type EventTypeValue = `${EventType}`;

/** The name GraphQL gives an event type string: 'instance_snapshot.delete_failed' → INSTANCE_SNAPSHOT_DELETE_FAILED. */
export function eventTypeName(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
