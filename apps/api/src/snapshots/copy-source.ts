import { TemplateState, VolumeState } from '@snapdeck/domain';
import type { Repositories } from '@snapdeck/persistence';

/**
 * Whether a template or a volume is being made from this snapshot: a copy's source must outlive the copy, so
 * deleting the snapshot (or the instance it belongs to) waits for the copy to finish.
 */
export async function isCopySource(tx: Repositories, snapshotId: string): Promise<boolean> {
  return (
    (await tx.templates.existsCreatingFromSnapshot(snapshotId, TemplateState.CREATING)) ||
    (await tx.volumes.existsCreatingFrom({ snapshotId }, VolumeState.CREATING))
  );
}
