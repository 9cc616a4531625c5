import { Injectable } from '@nestjs/common';
import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure, failed } from './outcomes.js';

type Name = JobName.CREATE_VOLUMES;

/** Creates the blank volumes of a new instance; volumes that exist already count as created. */
@Injectable()
export class CreateVolumesHandler implements JobHandler<Name> {
  readonly jobName = JobName.CREATE_VOLUMES;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    const volumes: unknown = payload.volumes;
    if (!Array.isArray(volumes) || volumes.length === 0) {
      return failed('Invalid payload: volumes must be a non-empty list');
    }
    const created: string[] = [];
    let existing = 0;
    // One at a time: a failure stops the job with the volumes before it in place, and a redelivery
    // finds them and carries on from there.
    for (const spec of payload.volumes) {
      try {
        const result = await this.driver.createVolume(spec.volumeId, spec.sizeGiB);
        if (result.alreadyExisted) existing++;
        created.push(spec.volumeId);
      } catch (error) {
        const outcome = driverFailure<Name>(error);
        if (outcome.ok || created.length === 0) return outcome;
        return { ...outcome, message: `${outcome.message} (${created.length} of ${volumes.length} created before)` };
      }
    }
    const message =
      existing === 0
        ? `Created ${created.length} volume(s)`
        : `Created ${created.length - existing} volume(s); ${existing} already existed`;
    return { ok: true, data: { created }, message };
  }
}
