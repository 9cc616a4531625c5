import {
  isNotifiable,
  notificationStatus,
  notifyAddresses,
  subscribes,
  uniqueAddresses,
  type NamedResource,
  type NotifiableEventType,
  type NotificationData,
  type NotificationPayload,
} from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import type { EventEntity } from '../entities/event.entity.js';
import { NotificationEmailEntity } from '../entities/notification-email.entity.js';
import { OrganizationEntity } from '../entities/organization.entity.js';
import { OutboxStatus } from '../entities/outbox-status.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { newId } from '../ids.js';
import { WebhookRepository } from './webhook.repository.js';

/** Which resource ids an event names (its own, and the ones its details carry), to look their names up. */
interface NamedIds {
  snapshotId?: string;
  volumeId?: string;
  instanceId?: string;
}

const RESOURCE_ID_KEY: Record<string, keyof NamedIds> = {
  Snapshot: 'snapshotId',
  Volume: 'volumeId',
  Instance: 'instanceId',
};

/**
 * Writes the outbox rows of a notifiable event, in the transaction that records it (EventRepository.record calls
 * it): one webhook delivery per enabled webhook of the organization that wants the type, and one mail to the
 * addresses the event names (a policy's `notify`) plus those the organization's settings name for the type.
 * The payload is frozen here, names included, so a resource deleted before the send is still named.
 */
export class NotificationOutboxRepository {
  constructor(private readonly manager: EntityManager) {}

  async enqueue(event: EventEntity): Promise<void> {
    if (!isNotifiable(event.type) || !event.organizationId) return;
    const organizationId = event.organizationId;
    const webhooks = await new WebhookRepository(this.manager).subscribedTo(organizationId, event.type);
    const recipients = await this.recipients(event, organizationId);
    // Nobody to tell: the names the payload looks up are not read (every snapshot records such an event).
    if (webhooks.length === 0 && recipients.length === 0) return;
    // jsonb: TypeORM's deep-partial type cannot see through Record<string, unknown>; the column takes it whole.
    const payload = (await this.payload(event, event.type, organizationId)) as never;
    if (webhooks.length > 0) {
      await this.manager.insert(
        WebhookDeliveryEntity,
        webhooks.map((w) => ({
          id: newId(),
          webhookId: w.id,
          organizationId,
          eventId: event.id,
          eventType: event.type,
          payload,
          status: OutboxStatus.PENDING,
          attempts: 0,
          responseStatus: null,
          lastError: null,
          nextAttemptAt: () => 'now()',
          finishedAt: null,
        })),
      );
    }
    if (recipients.length > 0) {
      await this.manager.insert(NotificationEmailEntity, {
        id: newId(),
        organizationId,
        eventId: event.id,
        eventType: event.type,
        recipients,
        payload,
        status: OutboxStatus.PENDING,
        attempts: 0,
        lastError: null,
        nextAttemptAt: () => 'now()',
        finishedAt: null,
      });
    }
  }

  private async recipients(event: EventEntity, organizationId: string): Promise<string[]> {
    const organization = await this.manager.findOne(OrganizationEntity, {
      where: { id: organizationId },
      select: { id: true, notificationEmails: true, notificationEvents: true },
    });
    const fromSettings =
      organization && subscribes(organization.notificationEvents, event.type) ? organization.notificationEmails : [];
    return uniqueAddresses([...notifyAddresses(event.details), ...fromSettings]);
  }

  private async payload(
    event: EventEntity,
    type: NotifiableEventType,
    organizationId: string,
  ): Promise<NotificationPayload> {
    const details = { ...(event.details ?? {}) };
    delete details['notify'];
    const ids = this.namedIds(event, details);
    const names = await this.names(ids);
    const named = (key: keyof NamedIds, kept: unknown): NamedResource | undefined =>
      ids[key] ? { id: ids[key], name: names.get(ids[key]) ?? (typeof kept === 'string' ? kept : null) } : undefined;
    const snapshot = named('snapshotId', details['snapshotName']);
    const volume = named('volumeId', details['volumeName']);
    const instance = named('instanceId', details['instanceName']);
    // Policies live in their own module: their events carry the name (details.policyName) when they want it shown.
    const policyName = typeof details['policyName'] === 'string' ? details['policyName'] : null;
    const policyResource =
      typeof details['policyId'] === 'string' ? { id: details['policyId'], name: policyName } : undefined;
    // Backups likewise carry their own name (details.backupName): their rows may be gone when the mail is sent.
    const backupResource =
      event.resourceType === 'Backup' && typeof details['backupName'] === 'string'
        ? { id: event.resourceId, name: details['backupName'] }
        : undefined;
    const own = [snapshot, volume, instance, policyResource, backupResource].find((r) => r?.id === event.resourceId);
    const data: NotificationData = {
      actor: typeof details['actor'] === 'string' ? details['actor'] : event.actorUserId,
      resource: { type: event.resourceType, id: event.resourceId, name: own?.name ?? null },
      ...(snapshot ? { snapshot } : {}),
      ...(volume ? { volume } : {}),
      ...(instance ? { instance } : {}),
      ...(policyResource ? { policy: policyResource } : {}),
      ...(typeof details['scheduledAt'] === 'string' ? { scheduledAt: details['scheduledAt'] } : {}),
      status: notificationStatus(type),
      error: typeof details['error'] === 'string' ? details['error'] : type === 'quota.exceeded' ? event.message : null,
      message: event.message,
      details,
    };
    return { id: event.id, type, time: event.createdAt.toISOString(), organizationId, data };
  }

  private namedIds(event: EventEntity, details: Record<string, unknown>): NamedIds {
    const ids: NamedIds = {};
    for (const key of ['snapshotId', 'volumeId', 'instanceId'] as const) {
      if (typeof details[key] === 'string') ids[key] = details[key];
    }
    const own = RESOURCE_ID_KEY[event.resourceType];
    if (own) ids[own] = event.resourceId;
    return ids;
  }

  /**
   * The names of the resources that still exist, by id, and the parents the event did not name (a snapshot's
   * volume and instance, a volume's instance): one query per table.
   */
  private async names(ids: NamedIds): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const row = async (table: string, id: string, parents: string) =>
      (
        await this.manager.query<Array<Record<string, string | null>>>(
          `SELECT name${parents} FROM ${table} WHERE id = $1`,
          [id],
        )
      )[0];
    if (ids.snapshotId) {
      const s = await row('snapshots', ids.snapshotId, ', volume_id, instance_id');
      if (s) {
        names.set(ids.snapshotId, s['name']!);
        ids.volumeId ??= s['volume_id'] ?? undefined;
        ids.instanceId ??= s['instance_id'] ?? undefined;
      }
    }
    if (ids.volumeId) {
      const v = await row('volumes', ids.volumeId, ', instance_id');
      if (v) {
        names.set(ids.volumeId, v['name']!);
        ids.instanceId ??= v['instance_id'] ?? undefined;
      }
    }
    if (ids.instanceId) {
      const i = await row('instances', ids.instanceId, '');
      if (i) names.set(ids.instanceId, i['name']!);
    }
    return names;
  }
}
