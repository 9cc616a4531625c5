import { EventType } from '@snapdeck/domain';
import type { InstanceEntity, NewEvent, SnapshotEntity } from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';

/**
 * The customer's event. Every user of the customer's organization reads it (READ_ONLY too): they are owed an
 * answer to "who copied our data, and when". It names their own snapshot, volume and instance, the person who
 * cloned it (user id, e-mail and role: the same facts an in-house actor's event gives), and the clone's
 * instance id: an opaque handle (the customer reads NOT_FOUND for it) to quote when asking support to remove the
 * copy. It does not name the support organization or its environment, which are none of the customer's business.
 */
export function snapshotClonedBySupportEvent(
  principal: Principal,
  snapshot: SnapshotEntity,
  clone: InstanceEntity,
): NewEvent {
  return {
    organizationId: snapshot.organizationId,
    actorUserId: principal.userId,
    type: EventType.SNAPSHOT_CLONED_BY_SUPPORT,
    resourceType: 'Snapshot',
    resourceId: snapshot.id,
    message: `${principal.email} (${principal.role}) cloned snapshot ${snapshot.name} into an instance of their own organization for troubleshooting`,
    details: {
      snapshotId: snapshot.id,
      volumeId: snapshot.volumeId,
      instanceId: snapshot.instanceId,
      actorEmail: principal.email,
      actorRole: principal.role,
      cloneInstanceId: clone.id,
    },
  };
}

/**
 * The event of the organization that holds the clone. Its READ_ONLY and MEMBER users read it too, and they may
 * not read the customer's organization: so it names only the clone (theirs) and refers to the customer's event
 * by id. Support staff and platform administrators, who read every organization's events, can follow that
 * reference; nobody else learns the customer's organization, snapshot, volume, instance or their names from it.
 */
export function instanceClonedAcrossOrganizationsEvent(
  principal: Principal,
  clone: InstanceEntity,
  customerEventId: string,
): NewEvent {
  return {
    organizationId: clone.organizationId,
    actorUserId: principal.userId,
    type: EventType.INSTANCE_CLONED_ACROSS_ORGANIZATIONS,
    resourceType: 'Instance',
    resourceId: clone.id,
    message: `${principal.email} (${principal.role}) cloned a snapshot of another organization into instance ${clone.name}`,
    details: { sourceEventId: customerEventId },
  };
}
