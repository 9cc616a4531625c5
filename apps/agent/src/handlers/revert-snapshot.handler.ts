import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.REVERT_SNAPSHOT;

/**
 * Rolls a volume's data back to a snapshot; the snapshot and every other one stay. Idempotent by nature: a
 * second revert to the same snapshot leaves the same data. A snapshot missing from the volume fails the job.
 */
export class RevertSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.REVERT_SNAPSHOT;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      await this.driver.revertSnapshot(payload.volumeId, payload.snapshotId);
      return { ok: true, data: { snapshotId: payload.snapshotId }, message: 'Volume reverted to the snapshot' };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
