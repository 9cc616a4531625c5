import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { DriverError, VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure, failed } from './outcomes.js';

type Name = JobName.CREATE_VOLUMES;

/**
 * Creates the volumes of a new instance (or one new volume): blank, a full copy of a file in secondary storage
 * (a template, or a snapshot in transit from another host), or a full copy of a snapshot on this host.
 * Volumes that exist already count as created. Sources marked `removeAfter` are removed once every volume of
 * the job exists, not after each one: two volumes may be copied from one file, and a redelivery after a
 * failure must still find it.
 */
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
        if (typeof spec !== 'object' || spec === null)
          throw new DriverError('Invalid payload: a volume is not an object');
        const result = await this.driver.createVolume(spec.volumeId, spec.sizeGiB, spec.source);
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
    return { ok: true, data: { created }, message: message + (await this.removeSources(payload)) };
  }

  /**
   * Removes the transfer files the volumes were copied from. Every volume exists by now, so a failure here
   * does not fail the job (the volumes are good); it is said in the job's message instead.
   */
  private async removeSources(payload: JobPayloads[Name]): Promise<string> {
    const paths = new Set<string>();
    for (const { source } of payload.volumes) {
      if (source?.kind === 'secondary' && source.removeAfter === true) paths.add(source.path);
    }
    const notes: string[] = [];
    for (const path of paths) {
      try {
        const { alreadyGone } = await this.driver.removeTransfer(path);
        notes.push(alreadyGone ? `${path} was already removed` : `removed ${path}`);
      } catch (error) {
        if (!(error instanceof DriverError)) throw error;
        notes.push(`could not remove ${path} afterwards: ${error.message}`);
      }
    }
    return notes.length > 0 ? `; ${notes.join('; ')}` : '';
  }
}
