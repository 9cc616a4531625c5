import { conflict, diskOrder, InstanceState, preconditionFailed, VolumeState } from '@snapdeck/domain';
import type { InstanceEntity, VolumeEntity } from '@snapdeck/persistence';

/** States an instance passes through: asking it to do something else meanwhile is CONFLICT (wait and retry). */
const TRANSITIONAL: readonly InstanceState[] = [
  InstanceState.CREATING,
  InstanceState.STARTING,
  InstanceState.STOPPING,
  InstanceState.DESTROYING,
];

/**
 * Refuses an operation unless the instance is in one of `allowed`: CONFLICT while it is on its way somewhere
 * (CREATING, STARTING, STOPPING, DESTROYING: wait for it), PRECONDITION_FAILED in a settled state that does not
 * fit (RUNNING, STOPPED, ERROR: the caller must change it first).
 */
export function assertInstanceIn(instance: InstanceEntity, allowed: readonly InstanceState[], why: string): void {
  if (allowed.includes(instance.state)) return;
  const message = `Instance ${instance.name} is ${instance.state}: ${why}`;
  throw TRANSITIONAL.includes(instance.state) ? conflict(message) : preconditionFailed(message);
}

/** The portal's words for a volume state, as createSnapshot's CONFLICT says them. */
export function volumeStateLabel(volume: Pick<VolumeEntity, 'state'>): string {
  return volume.state === VolumeState.SNAPSHOTTING ? 'Snapshot in progress' : volume.state;
}

/**
 * Every volume must be READY: a busy one (being made, snapshotted or reverted) is CONFLICT, a broken one
 * (ERROR) PRECONDITION_FAILED, since no wait will mend it.
 */
export function assertDisksReady(volumes: readonly VolumeEntity[], what: string): void {
  const broken = volumes.find((v) => v.state === VolumeState.ERROR);
  if (broken) throw preconditionFailed(`Volume ${broken.name} is ERROR: ${what} needs every disk of the instance`);
  const busy = volumes.find((v) => v.state !== VolumeState.READY);
  if (busy) {
    throw conflict(`Volume ${busy.name} is ${volumeStateLabel(busy)}: one operation per volume at a time`);
  }
}

/**
 * The instance's disks for a hypervisor job, in disk order (ROOT, then data disks by name). Volumes still being
 * made, broken or being destroyed are not disks of the domain and are left out; the operations that define the
 * domain (start, instance snapshots) require every volume READY first, so for them nothing is left out.
 */
export function domainDisks(volumes: readonly VolumeEntity[]): string[] {
  const absent: readonly VolumeState[] = [VolumeState.CREATING, VolumeState.ERROR, VolumeState.DESTROYING];
  return diskOrder(volumes.filter((v) => !absent.includes(v.state))).map((v) => v.id);
}
