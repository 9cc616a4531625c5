import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.DELETE_SNAPSHOT;

/**
 * Deletes a volume snapshot (live when the volume is a running instance's disk); success only once the disk no
 * longer has it, and "already gone" counts. Waits for a snapshot slot.
 */
export class DeleteSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.DELETE_SNAPSHOT;

  constructor(
    private readonly driver: VolumeDriver,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyGone } = await this.slots.run(() =>
        this.driver.deleteSnapshot(payload.volumeId, payload.snapshotId),
      );
      return {
        ok: true,
        data: { snapshotId: payload.snapshotId, alreadyGone },
        message: alreadyGone
          ? 'Snapshot was already missing from disk; nothing to delete'
          : 'Snapshot deleted from disk',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
