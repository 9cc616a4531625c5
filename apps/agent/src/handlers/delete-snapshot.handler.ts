import { Injectable } from '@nestjs/common';
import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.DELETE_SNAPSHOT;

/** Deletes a volume snapshot; success only once the disk no longer has it, and "already gone" counts. */
@Injectable()
export class DeleteSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.DELETE_SNAPSHOT;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyGone } = await this.driver.deleteSnapshot(payload.volumeId, payload.snapshotId);
      return {
        ok: true,
        data: { snapshotId: payload.snapshotId, alreadyGone },
        message: alreadyGone ? 'The snapshot was already gone' : 'Snapshot deleted',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
