import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.CREATE_BACKUP;

/**
 * Backs up every disk of an instance to a backup storage, in the payload's mode when it runs; a backup complete
 * already (a repeated delivery) is success with alreadyExisted. Every node can back up a stopped instance, so
 * this is the volume port's; a driver with a hypervisor handles a running one there too.
 */
export class CreateBackupHandler implements JobHandler<Name> {
  readonly jobName = JobName.CREATE_BACKUP;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const result = await this.driver.createBackup(payload);
      const volumes = result.manifest.volumes.length;
      const paused = result.guestPausedMs === null ? '' : `, guest paused ${Math.round(result.guestPausedMs)} ms`;
      // Never hidden (CloudStack #12821): a guest that could not be brought back is said in the message too.
      const notBack =
        result.manifest.instanceWasRunning && !result.instanceRunning
          ? '; the instance could not be brought back to running (the agent tries again at its next start)'
          : '';
      return {
        ok: true,
        data: result,
        message: result.alreadyExisted
          ? 'The backup was already complete'
          : `Backed up ${volumes} volume(s), ${result.sizeBytes} bytes${paused}${notBack}`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
