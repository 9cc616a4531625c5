import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.CREATE_SNAPSHOT;

/**
 * Takes a volume snapshot, live when the volume is a running instance's disk (the driver is told the instance),
 * quiesced when asked; a snapshot already on disk (a repeated delivery) is success. Waits for a snapshot slot.
 */
export class CreateSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.CREATE_SNAPSHOT;

  constructor(
    private readonly driver: VolumeDriver,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { volumeId, snapshotId, instanceId, quiesce } = payload;
      const { alreadyExisted, sizeBytes, quiesced } = await this.slots.run(() =>
        this.driver.createSnapshot(volumeId, snapshotId, {
          ...(instanceId !== undefined ? { instanceId } : {}),
          ...(quiesce !== undefined ? { quiesce } : {}),
        }),
      );
      return {
        ok: true,
        data: { snapshotId, alreadyExisted, sizeBytes, quiesced },
        message: alreadyExisted
          ? 'The snapshot was already on disk'
          : quiesced
            ? 'Snapshot taken with the guest file systems frozen'
            : 'Snapshot taken',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
