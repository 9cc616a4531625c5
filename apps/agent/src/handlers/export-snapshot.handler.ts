import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.EXPORT_SNAPSHOT;

/**
 * Writes a snapshot as a standalone qcow2 at a path in secondary storage (a template's own path, or a
 * transfer to another host). A destination that exists already is success (a repeated delivery).
 */
export class ExportSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.EXPORT_SNAPSHOT;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { volumeId, snapshotId, destination } = payload;
      const { alreadyExisted, virtualSizeBytes } = await this.driver.exportSnapshot(volumeId, snapshotId, destination);
      return {
        ok: true,
        data: { destination, virtualSizeBytes },
        message: alreadyExisted ? `${destination} was already in secondary storage` : `Exported to ${destination}`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
