import { EventType, Role } from '@snapdeck/domain';
import type { InstanceEntity, SnapshotEntity } from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';
import { instanceClonedAcrossOrganizationsEvent, snapshotClonedBySupportEvent } from './clone-events.js';

const support: Principal = {
  userId: 'u-support',
  email: 'helper@support.test',
  organizationId: 'org-support',
  role: Role.SUPPORT,
};
const snapshot = {
  id: 'snap-1',
  name: 'shop_ROOT_20261201120000',
  organizationId: 'org-customer',
  environmentId: 'env-customer',
  volumeId: 'vol-1',
  instanceId: 'inst-1',
} as SnapshotEntity;
const clone = {
  id: 'clone-1',
  name: 'shop-debug',
  organizationId: 'org-support',
  environmentId: 'env-support',
} as InstanceEntity;

describe('clone events', () => {
  it("tells the customer's organization who cloned which snapshot, and nothing of the support organization", () => {
    const event = snapshotClonedBySupportEvent(support, snapshot, clone);
    expect(event).toEqual({
      organizationId: 'org-customer',
      actorUserId: 'u-support',
      type: EventType.SNAPSHOT_CLONED_BY_SUPPORT,
      resourceType: 'Snapshot',
      resourceId: 'snap-1',
      message:
        'helper@support.test (SUPPORT) cloned snapshot shop_ROOT_20261201120000 into an instance of their own organization for troubleshooting',
      details: {
        snapshotId: 'snap-1',
        volumeId: 'vol-1',
        instanceId: 'inst-1',
        actorEmail: 'helper@support.test',
        actorRole: 'SUPPORT',
        cloneInstanceId: 'clone-1',
      },
    });
    expect(JSON.stringify(event)).not.toMatch(/org-support|env-support|shop-debug/);
  });

  it("gives the clone's organization only the clone and the customer event's id", () => {
    const event = instanceClonedAcrossOrganizationsEvent(support, clone, 'event-7');
    expect(event).toEqual({
      organizationId: 'org-support',
      actorUserId: 'u-support',
      type: EventType.INSTANCE_CLONED_ACROSS_ORGANIZATIONS,
      resourceType: 'Instance',
      resourceId: 'clone-1',
      message: 'helper@support.test (SUPPORT) cloned a snapshot of another organization into instance shop-debug',
      details: { sourceEventId: 'event-7' },
    });
    expect(JSON.stringify(event)).not.toMatch(/org-customer|env-customer|snap-1|vol-1|inst-1|shop_ROOT/);
  });
});
