import type { NamedResource, NotificationPayload } from '@snapdeck/domain';

const TITLES: Record<NotificationPayload['type'], string> = {
  'snapshot.completed': 'Snapshot completed',
  'snapshot.failed': 'Snapshot failed',
  'snapshot.deleted': 'Snapshot deleted',
  'policy.run.failed': 'Scheduled snapshot failed',
  'policy.run.skipped': 'Scheduled snapshot skipped',
  'policy.run.missed': 'Scheduled snapshot missed',
  'backup.completed': 'Backup completed',
  'backup.failed': 'Backup failed',
  'restore.completed': 'Restore completed',
  'restore.failed': 'Restore failed',
  'quota.exceeded': 'Request refused: limit reached',
};

const named = (r: NamedResource) => (r.name ? `${r.name} (${r.id})` : r.id);

/**
 * The mail of one notification, plain text: what happened, to which resource (names first, ids for support),
 * when (UTC), who, and the error. The subject leads with the resource's name so an inbox sorts by it.
 */
export function renderNotificationEmail(payload: NotificationPayload): { subject: string; text: string } {
  const { data } = payload;
  const title = TITLES[payload.type];
  const about = data.resource.name ?? data.instance?.name ?? data.volume?.name ?? null;
  const subject = `[Snapdeck] ${title}${about ? `: ${about}` : ''}`;
  const lines = [
    `${title}.`,
    '',
    `What:         ${data.message}`,
    `Resource:     ${data.resource.type} ${named({ id: data.resource.id, name: data.resource.name })}`,
    ...(data.snapshot && data.resource.type !== 'Snapshot' ? [`Snapshot:     ${named(data.snapshot)}`] : []),
    ...(data.volume && data.resource.type !== 'Volume' ? [`Volume:       ${named(data.volume)}`] : []),
    ...(data.instance && data.resource.type !== 'Instance' ? [`Instance:     ${named(data.instance)}`] : []),
    ...(data.policy && data.resource.type !== 'SnapshotPolicy' ? [`Policy:       ${named(data.policy)}`] : []),
    ...(data.scheduledAt ? [`Scheduled at: ${data.scheduledAt}`] : []),
    // Backups and restores say how big and how long (backup-events.ts writes these readable forms).
    ...(typeof data.details['size'] === 'string' ? [`Size:         ${data.details['size']}`] : []),
    ...(typeof data.details['duration'] === 'string' ? [`Duration:     ${data.details['duration']}`] : []),
    `When:         ${payload.time}`,
    `Status:       ${data.status}`,
    ...(data.error ? [`Error:        ${data.error}`] : []),
    `By:           ${data.actor ?? 'Snapdeck'}`,
    '',
    `Organization ${payload.organizationId}, event ${payload.id}.`,
  ];
  return { subject, text: lines.join('\n') + '\n' };
}
