import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure, failed } from './outcomes.js';

type Name = JobName.INVENTORY;

/** A check bound above an hour is a mistake in the payload (seconds sent as milliseconds), not a wish. */
export const MAX_CHECK_TIMEOUT_SECONDS = 3600;

/**
 * Lists what this host's storage holds for the storage audit: images, their tags, sizes and a bounded
 * `qemu-img check` each. Reads only, so a repeated delivery just lists again. The api compares; the agent
 * never reads the database.
 */
export class InventoryHandler implements JobHandler<Name> {
  readonly jobName = JobName.INVENTORY;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    const seconds: unknown = payload.checkTimeoutSeconds;
    if (
      typeof seconds !== 'number' ||
      !Number.isFinite(seconds) ||
      seconds <= 0 ||
      seconds > MAX_CHECK_TIMEOUT_SECONDS
    ) {
      return failed(
        `Invalid payload: checkTimeoutSeconds must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT_SECONDS}`,
      );
    }
    try {
      const inventory = await this.driver.inventory({ checkTimeoutMs: seconds * 1000 });
      const images = inventory.images;
      const tags = images.reduce((sum, image) => sum + image.tags.length, 0);
      const notClean = images.filter((i) => i.check.status !== 'clean' && i.check.status !== 'skipped').length;
      return {
        ok: true,
        data: inventory,
        message: `Listed ${images.length} image(s) with ${tags} snapshot tag(s); ${notClean} not clean`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
