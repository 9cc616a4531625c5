import type { InstanceDisks, VolumeSource } from '@snapdeck/contracts';
import { isUuid } from '@snapdeck/domain';
import { DriverError } from './volume-driver.js';

/** 64 TiB: far above any real volume, low enough to catch a size sent in bytes or MiB by mistake. */
export const MAX_VOLUME_SIZE_GIB = 65536;

/** Longest relative path accepted in secondary storage; Linux's PATH_MAX is 4096, names are short. */
export const MAX_RELATIVE_PATH_LENGTH = 1024;

/** The only folder of secondary storage whose files a job may ask the agent to remove after use. */
export const TRANSFERS_FOLDER = 'transfers/';

/**
 * Ids become file names and snapshot tags, so anything but a UUID is refused before a path is built
 * ("../x" must never reach the file system). Returns the canonical lower-case form.
 */
export function checkedId(
  value: unknown,
  what: 'volume' | 'snapshot' | 'template' | 'instance' | 'recovery point' | 'backup' | 'organization',
): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new DriverError(`Invalid ${what} id ${quoted(value)}: expected a UUID`);
  }
  return value.toLowerCase();
}

/** The most disks an instance has: vda…vdz. */
export const MAX_INSTANCE_DISKS = 26;

/**
 * An instance as a job names it: a UUID and 1 to 26 distinct volume UUIDs in disk order (ROOT first). Returns
 * the canonical lower-case form.
 */
export function checkedInstance(value: unknown): InstanceDisks {
  const candidate = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<string, unknown>>;
  const instanceId = checkedId(candidate.instanceId, 'instance');
  const volumeIds = candidate.volumeIds;
  if (!Array.isArray(volumeIds) || volumeIds.length === 0 || volumeIds.length > MAX_INSTANCE_DISKS) {
    throw new DriverError(
      `Invalid disks of instance ${instanceId}: expected a list of 1 to ${MAX_INSTANCE_DISKS} volume ids, ROOT first`,
    );
  }
  const ids = volumeIds.map((id) => checkedId(id, 'volume'));
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new DriverError(`Invalid disks of instance ${instanceId}: volume ${repeated} is listed twice`);
  return { instanceId, volumeIds: ids };
}

export function checkedSizeGiB(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VOLUME_SIZE_GIB) {
    throw new DriverError(
      `Invalid volume size ${JSON.stringify(value)}: expected a whole number of GiB from 1 to ${MAX_VOLUME_SIZE_GIB}`,
    );
  }
  return value;
}

/**
 * A path relative to secondary storage, checked before any path is built from it: a non-empty string of
 * `/`-separated names, not absolute, without `.`, `..` or empty segments, backslashes or control characters.
 * This is a lexical check only; a driver that reads the file also resolves symbolic links and checks that the
 * real path stays inside secondary storage.
 */
export function checkedRelativePath(value: unknown, what: string): string {
  const refuse = (why: string) =>
    new DriverError(`Invalid ${what} ${quoted(value)}: ${why} (expected a path relative to secondary storage)`);
  if (typeof value !== 'string' || value.length === 0) throw refuse('not a non-empty string');
  if (value.length > MAX_RELATIVE_PATH_LENGTH) throw refuse(`longer than ${MAX_RELATIVE_PATH_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw refuse('it contains control characters');
  if (value.startsWith('/')) throw refuse('an absolute path');
  if (value.includes('\\')) throw refuse('it contains a backslash');
  const segments = value.split('/');
  if (segments.some((s) => s === '..')) throw refuse('it contains a ".." segment');
  if (segments.some((s) => s === '.' || s === '')) throw refuse('it contains an empty or "." segment');
  return value;
}

const BLANK: VolumeSource = { kind: 'blank' };

/**
 * Checks a CREATE_VOLUMES source that came over the wire. Absent means blank (agents before 0.2 knew only
 * blank volumes). `removeAfter` is honoured only under `transfers/`, so that a faulty payload can never make
 * an agent delete a template or any other file an operator keeps in secondary storage.
 */
export function checkedSource(value: unknown): VolumeSource {
  if (value === undefined || value === null) return BLANK;
  if (typeof value !== 'object' || Array.isArray(value)) throw new DriverError('Invalid volume source: not an object');
  const source = value as Record<string, unknown>;
  switch (source['kind']) {
    case 'blank':
      return BLANK;
    case 'secondary': {
      const path = checkedRelativePath(source['path'], 'source path');
      const removeAfter = source['removeAfter'];
      if (removeAfter !== undefined && typeof removeAfter !== 'boolean') {
        throw new DriverError('Invalid volume source: removeAfter must be a boolean');
      }
      if (removeAfter === true && !path.startsWith(TRANSFERS_FOLDER)) {
        throw new DriverError(
          `Invalid volume source: removeAfter is allowed only for files under ${TRANSFERS_FOLDER}, not ${quoted(path)}`,
        );
      }
      return removeAfter === true ? { kind: 'secondary', path, removeAfter } : { kind: 'secondary', path };
    }
    case 'snapshot':
      return {
        kind: 'snapshot',
        volumeId: checkedId(source['volumeId'], 'volume'),
        snapshotId: checkedId(source['snapshotId'], 'snapshot'),
      };
    default:
      throw new DriverError(
        `Invalid volume source kind ${quoted(source['kind'])}: expected "blank", "secondary" or "snapshot"`,
      );
  }
}

/** How a source is named in messages: never a host path, only ids and paths relative to secondary storage. */
export function describeSource(source: VolumeSource): string {
  switch (source.kind) {
    case 'blank':
      return 'blank';
    case 'secondary':
      return `${source.path} in secondary storage`;
    case 'snapshot':
      return `snapshot ${source.snapshotId} of volume ${source.volumeId}`;
  }
}

/** The required size is at least the source's: a copy is grown, never shrunk (that would cut data off). */
export function checkFitsSize(action: string, sourceBytes: number, sizeGiB: number): void {
  if (sourceBytes > sizeGiB * GIB) {
    throw new DriverError(
      `${action}: the requested size of ${sizeGiB} GiB is smaller than the source's ${formatGiB(sourceBytes)} GiB; ` +
        `ask for at least ${Math.ceil(sourceBytes / GIB)} GiB`,
    );
  }
}

export function formatGiB(bytes: number): string {
  return String(Math.round((bytes / GIB) * 100) / 100);
}

function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export const GIB = 1024 ** 3;
