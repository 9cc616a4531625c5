import { Injectable } from '@nestjs/common';
import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.CREATE_SNAPSHOT;

/** Takes a volume snapshot; a snapshot already on disk (a repeated delivery) is success. */
@Injectable()
export class CreateSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.CREATE_SNAPSHOT;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyExisted, sizeBytes } = await this.driver.createSnapshot(payload.volumeId, payload.snapshotId);
      return {
        ok: true,
        data: { snapshotId: payload.snapshotId, alreadyExisted, sizeBytes },
        message: alreadyExisted ? 'The snapshot was already on disk' : 'Snapshot taken',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
