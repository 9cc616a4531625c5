import type { EventTypeValue } from '@snapdeck/domain';
import type { BackupEntity, JobEntity, NewEvent } from '@snapdeck/persistence';

const MIB = 1024 ** 2;

/** A byte count as a mail reader wants it: MiB with one decimal (GiB past 10 GiB). */
export function readableSize(bytes: number): string {
  if (bytes >= 10 * 1024 * MIB) return `${(bytes / (1024 * MIB)).toFixed(1)} GiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** Seconds with one decimal: how long a backup or a restore took, from its request to its result. */
export function readableDuration(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * An event of a backup or of a restore of it: named after the backup and its instance (the instance may be gone,
 * so its name travels in the details), with the backup's `notify` addresses, which the outbox mails (as a
 * policy's are), and the facts the mail shows: size, duration, error.
 */
export function backupEvent(
  job: JobEntity,
  backup: BackupEntity,
  type: EventTypeValue,
  message: string,
  facts: { instanceId?: string | null; sizeBytes?: number | null; error?: string | null } = {},
): NewEvent {
  const durationMs = Date.now() - job.createdAt.getTime();
  const instanceId = facts.instanceId === undefined ? backup.instanceId : facts.instanceId;
  return {
    organizationId: backup.organizationId,
    actorUserId: job.createdByUserId,
    type,
    resourceType: 'Backup',
    resourceId: backup.id,
    message,
    details: {
      jobId: job.id,
      backupId: backup.id,
      backupName: backup.name,
      ...(instanceId ? { instanceId } : {}),
      instanceName: backup.instanceName,
      storageId: backup.storageId,
      mode: backup.mode,
      compression: backup.compression,
      ...(facts.sizeBytes != null ? { sizeBytes: facts.sizeBytes, size: readableSize(facts.sizeBytes) } : {}),
      durationMs,
      duration: readableDuration(durationMs),
      ...(facts.error ? { error: facts.error } : {}),
      notify: backup.notify,
    },
  };
}
