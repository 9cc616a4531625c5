import { isUuid } from '@snapdeck/domain';
import { DriverError } from './volume-driver.js';

/** 64 TiB: far above any real volume, low enough to catch a size sent in bytes or MiB by mistake. */
export const MAX_VOLUME_SIZE_GIB = 65536;

/**
 * Ids become file names and snapshot tags, so anything but a UUID is refused before a path is built
 * ("../x" must never reach the file system). Returns the canonical lower-case form.
 */
export function checkedId(value: unknown, what: 'volume' | 'snapshot'): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new DriverError(`Invalid ${what} id ${JSON.stringify(value)}: expected a UUID`);
  }
  return value.toLowerCase();
}

export function checkedSizeGiB(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VOLUME_SIZE_GIB) {
    throw new DriverError(
      `Invalid volume size ${JSON.stringify(value)}: expected a whole number of GiB from 1 to ${MAX_VOLUME_SIZE_GIB}`,
    );
  }
  return value;
}

export const GIB = 1024 ** 3;
