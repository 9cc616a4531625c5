import {
  backupFolder,
  type BackupCompressionName,
  type BackupLocation,
  type BackupModeName,
  type BackupStorageLocation,
  type BackupVolumeSpec,
  type CreateBackupPayload,
  type DeleteBackupPayload,
  type RestoreBackupPayload,
  type RestoreTarget,
} from '@snapdeck/contracts';
import { checkedId, checkedRelativePath, checkedSizeGiB, MAX_INSTANCE_DISKS } from '../driver-input.js';
import { DriverError } from '../volume-driver.js';

/** A probe bound above ten minutes is a mistake in the payload (milliseconds sent as seconds), not a wish. */
export const MAX_PROBE_TIMEOUT_SECONDS = 600;
/** Longest chain a restore reads: a full every BACKUP_FULL_EVERY (default 7) runs keeps them far shorter. */
export const MAX_CHAIN_LENGTH = 64;

const MODES: readonly BackupModeName[] = ['SNAPSHOT', 'SUSPEND', 'STOP'];
const COMPRESSIONS: readonly BackupCompressionName[] = ['NONE', 'ZSTD', 'GZIP'];

/**
 * The `qemu-img convert` options of a compression: ZSTD and GZIP as qcow2 compressed clusters (zstd or zlib),
 * NONE as a plain qcow2.
 */
export function compressionArgs(compression: BackupCompressionName): string[] {
  switch (compression) {
    case 'NONE':
      return [];
    case 'ZSTD':
      return ['-c', '-o', 'compression_type=zstd'];
    case 'GZIP':
      return ['-c', '-o', 'compression_type=zlib'];
  }
}

/**
 * A storage location as a job names it. A folder under secondary storage is checked like any relative path
 * there; an absolute one must be a normalized absolute path (no `.`, `..` or empty segments), never `/` itself.
 */
export function checkedStorage(value: unknown): BackupStorageLocation {
  const candidate = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const path = candidate['path'];
  switch (candidate['root']) {
    case 'secondary':
      return { root: 'secondary', path: checkedRelativePath(path, 'backup storage path') };
    case 'absolute': {
      if (typeof path !== 'string' || !path.startsWith('/') || path === '/') {
        throw new DriverError('Invalid backup storage path: expected an absolute path below /');
      }
      checkedRelativePath(path.slice(1).replace(/\/$/, ''), 'backup storage path');
      return { root: 'absolute', path: path.replace(/\/$/, '') };
    }
    default:
      throw new DriverError('Invalid backup storage: root must be "secondary" or "absolute"');
  }
}

/**
 * A backup's location: its folder must be the contract's `<organizationId>/<backupId>` of this very backup, so
 * that no payload can make the agent write or remove anything but a backup's own folder.
 */
export function checkedLocation(value: unknown): BackupLocation & { organizationId: string } {
  const candidate = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const backupId = checkedId(candidate['backupId'], 'backup');
  const storage = checkedStorage(candidate['storage']);
  const folder = checkedRelativePath(candidate['folder'], 'backup folder');
  const segments = folder.split('/');
  const organizationId = checkedId(segments[0], 'organization');
  if (segments.length !== 2 || folder.toLowerCase() !== backupFolder(organizationId, backupId)) {
    throw new DriverError(`Invalid backup folder of backup ${backupId}: expected <organizationId>/${backupId}`);
  }
  return { backupId, storage, folder: backupFolder(organizationId, backupId), organizationId };
}

export function checkedProbeTimeoutSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_PROBE_TIMEOUT_SECONDS) {
    throw new DriverError(
      `Invalid payload: probeTimeoutSeconds must be a number of seconds above 0 and at most ${MAX_PROBE_TIMEOUT_SECONDS}`,
    );
  }
  return value;
}

/** An optional bound in seconds, 1 to `max`: absent stays absent (the agent's default applies). */
function checkedOptionalSeconds(value: unknown, what: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new DriverError(`Invalid payload: ${what} must be a whole number of seconds from 1 to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new DriverError(`Invalid payload: ${what} must be one of ${allowed.join(', ')}`);
}

function checkedVolumes(value: unknown): BackupVolumeSpec[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INSTANCE_DISKS) {
    throw new DriverError(`Invalid payload: volumes must list 1 to ${MAX_INSTANCE_DISKS} volumes, ROOT first`);
  }
  const volumes = value.map((entry: unknown): BackupVolumeSpec => {
    const spec = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const type = oneOf(spec['type'], ['ROOT', 'DATADISK'] as const, 'a volume type');
    const name = typeof spec['name'] === 'string' ? spec['name'] : '';
    return { volumeId: checkedId(spec['volumeId'], 'volume'), name, type, sizeGiB: checkedSizeGiB(spec['sizeGiB']) };
  });
  const ids = volumes.map((v) => v.volumeId);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new DriverError(`Invalid payload: volume ${repeated} is listed twice`);
  return volumes;
}

/** A CREATE_BACKUP payload with every value checked and ids in canonical form. */
export function checkedCreateBackup(payload: CreateBackupPayload): CreateBackupPayload {
  const location = checkedLocation(payload);
  if (checkedId(payload.organizationId, 'organization') !== location.organizationId) {
    throw new DriverError(`Invalid payload: the folder of backup ${location.backupId} is not its organization's`);
  }
  const parent = payload.parent === undefined || payload.parent === null ? undefined : checkedLocation(payload.parent);
  if (parent && parent.backupId === location.backupId) {
    throw new DriverError(`Invalid payload: backup ${location.backupId} cannot be its own parent`);
  }
  // An incremental's files name their parent's as `../<parentBackupId>/…`: the parent must be a sibling folder.
  if (parent && (!sameStorage(parent.storage, location.storage) || parent.organizationId !== location.organizationId)) {
    throw new DriverError(
      `Invalid payload: the parent of incremental backup ${location.backupId} must be in the same storage and organization`,
    );
  }
  return {
    backupId: location.backupId,
    storage: location.storage,
    folder: location.folder,
    organizationId: location.organizationId,
    instanceId: checkedId(payload.instanceId, 'instance'),
    instanceName: typeof payload.instanceName === 'string' ? payload.instanceName : '',
    mode: oneOf(payload.mode, MODES, 'mode'),
    compression: oneOf(payload.compression, COMPRESSIONS, 'compression'),
    quiesce: payload.quiesce === true,
    volumes: checkedVolumes(payload.volumes),
    ...(parent ? { parent: { backupId: parent.backupId, storage: parent.storage, folder: parent.folder } } : {}),
    probeTimeoutSeconds: checkedProbeTimeoutSeconds(payload.probeTimeoutSeconds),
    ...optional('stopTimeoutSeconds', checkedOptionalSeconds(payload.stopTimeoutSeconds, 'stopTimeoutSeconds', 3600)),
    ...optional('instanceRunning', payload.instanceRunning === true ? true : undefined),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** A RESTORE_BACKUP payload checked: a chain of 1 to 64 backups, 1 to 26 targets, each volume once. */
export function checkedRestoreBackup(payload: RestoreBackupPayload): RestoreBackupPayload {
  const chain: unknown = payload.chain;
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN_LENGTH) {
    throw new DriverError(`Invalid payload: chain must list 1 to ${MAX_CHAIN_LENGTH} backups, the restored one first`);
  }
  const links = chain.map((link: unknown) => {
    const { backupId, storage, folder } = checkedLocation(link);
    return { backupId, storage, folder };
  });
  const targetsValue: unknown = payload.targets;
  if (!Array.isArray(targetsValue) || targetsValue.length === 0 || targetsValue.length > MAX_INSTANCE_DISKS) {
    throw new DriverError(`Invalid payload: targets must list 1 to ${MAX_INSTANCE_DISKS} volumes`);
  }
  const targets = targetsValue.map((entry: unknown): RestoreTarget => {
    const target = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    return {
      sourceVolumeId: checkedId(target['sourceVolumeId'], 'volume'),
      volumeId: checkedId(target['volumeId'], 'volume'),
      sizeGiB: checkedSizeGiB(target['sizeGiB']),
    };
  });
  const ids = targets.map((t) => t.volumeId);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new DriverError(`Invalid payload: volume ${repeated} is restored twice`);
  if (typeof payload.overwrite !== 'boolean') throw new DriverError('Invalid payload: overwrite must be a boolean');
  return {
    chain: links,
    instanceId: checkedId(payload.instanceId, 'instance'),
    targets,
    overwrite: payload.overwrite,
    probeTimeoutSeconds: checkedProbeTimeoutSeconds(payload.probeTimeoutSeconds),
  };
}

export function checkedDeleteBackup(payload: DeleteBackupPayload): DeleteBackupPayload {
  const { backupId, storage, folder } = checkedLocation(payload);
  return { backupId, storage, folder, probeTimeoutSeconds: checkedProbeTimeoutSeconds(payload.probeTimeoutSeconds) };
}

/** Two locations on the same storage (an incremental's file names its parent's relative to itself). */
export function sameStorage(a: BackupStorageLocation, b: BackupStorageLocation): boolean {
  return a.root === b.root && a.path === b.path;
}
