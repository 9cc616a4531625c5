import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.DELETE_BACKUP;

/** Removes a backup's folder; one gone already (a repeated delivery) is success with alreadyGone. */
export class DeleteBackupHandler implements JobHandler<Name> {
  readonly jobName = JobName.DELETE_BACKUP;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyGone } = await this.driver.deleteBackup(payload);
      return {
        ok: true,
        data: { alreadyGone },
        message: alreadyGone ? 'The backup was already gone' : 'Backup deleted',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
