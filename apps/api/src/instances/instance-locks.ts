import { notFound } from '@snapdeck/domain';
import type { HostEntity, InstanceEntity, Repositories } from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { assertHostUp } from '../common/hosts.js';

/**
 * The caller's instance, locked for update until commit: start, stop, destroy and instance snapshots are decided on
 * the state read here, and a snapshot or revert of one of its volumes (which takes the lock shared) waits for them.
 */
export async function lockWritableInstance(
  tx: Repositories,
  principal: Principal,
  instanceId: string,
): Promise<InstanceEntity> {
  const found = await findWritable(principal, 'Instance', instanceId, (s) => tx.instances.findById(s, instanceId));
  const locked = await tx.instances.lock(found.id, 'update');
  if (!locked) throw notFound('Instance', instanceId);
  return locked;
}

/** The host that runs the instance, which must be UP to take its job. */
export async function hostOfInstance(tx: Repositories, instance: InstanceEntity): Promise<HostEntity> {
  return assertHostUp(instance.hostId ? await tx.hosts.findById(instance.hostId) : null, 'instance');
}
