import type { ImageCheckedEvent } from '@snapdeck/contracts';
import { EventType, VolumeState } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type Repositories } from '@snapdeck/persistence';

/**
 * What an agent found when it checked, at start-up, an image it was writing when it last stopped. `repaired`
 * (leaked clusters fixed with -r leaks): an event only. `damaged`: a READY volume becomes ERROR, with an event
 * saying why; its instance keeps its state, since a running guest may still be reading that disk and the
 * operator needs to stop it or copy data out (ERROR would allow only a destroy). A volume mid-operation is not
 * moved (its job's applier moves it next); the event says so and the next storage audit reports the damage.
 * An event for a volume that is not on the reporting agent's host is ignored: an agent speaks for its own disks.
 */
export async function applyImageCheck(tx: Repositories, event: ImageCheckedEvent): Promise<'applied' | 'ignored'> {
  const volume = await tx.volumes.findById(ALL_ORGANIZATIONS, event.volumeId);
  const host = volume ? await tx.hosts.findById(volume.hostId) : null;
  if (!volume || host?.name !== event.hostName) return 'ignored';
  const damaged = event.status === 'damaged';
  const movedToError = damaged && (await tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.ERROR));
  const leaks = event.leakedClusters ? ` (${event.leakedClusters} leaked cluster(s))` : '';
  await tx.events.record({
    organizationId: volume.organizationId,
    actorUserId: null,
    type: damaged ? EventType.VOLUME_IMAGE_DAMAGED : EventType.VOLUME_IMAGE_REPAIRED,
    resourceType: 'Volume',
    resourceId: volume.id,
    message: damaged
      ? `Volume ${volume.name} image is damaged after an agent restart${movedToError ? '' : ` (the volume stays ${volume.state})`}: ${event.message}`
      : `Volume ${volume.name} image repaired after an agent restart${leaks}: ${event.message}`,
    details: {
      hostName: event.hostName,
      checkedAt: event.at,
      status: event.status,
      leakedClusters: event.leakedClusters ?? null,
      movedToError,
    },
  });
  return 'applied';
}
