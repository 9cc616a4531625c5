import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.RESTORE_BACKUP;

/**
 * Restores a backup into new volumes, or over a stopped instance's own volumes; every file of the backup's chain
 * is verified against its manifest before anything is written. A repeated delivery writes the same data again.
 */
export class RestoreBackupHandler implements JobHandler<Name> {
  readonly jobName = JobName.RESTORE_BACKUP;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const result = await this.driver.restoreBackup(payload);
      return {
        ok: true,
        data: result,
        message:
          `Restored ${result.restored.length} volume(s)${payload.overwrite ? ' in place' : ''}; ` +
          `${result.verifiedFiles} backup file(s) verified first`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
