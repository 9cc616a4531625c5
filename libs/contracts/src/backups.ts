/**
 * Backups between api and agent (issue 13): where a backup lies, what its manifest says, and what each backup job
 * carries. A backup is the folder `<storage>/<organizationId>/<backupId>/` holding `manifest.json` and one qcow2
 * per volume (`<volumeId>.qcow2`), the contract's layout. The agent never reads the database: the api sends every
 * name and size a job needs, and the agent reports what it wrote.
 */

export type BackupModeName = 'SNAPSHOT' | 'SUSPEND' | 'STOP';
export type BackupCompressionName = 'NONE' | 'ZSTD' | 'GZIP';

/**
 * Where a backup storage lies on every node: a folder under secondary storage (the `default` storage is
 * `{ root: 'secondary', path: 'backups' }`), or an absolute path every node mounts (registered by an operator).
 */
export type BackupStorageLocation = { root: 'secondary'; path: string } | { root: 'absolute'; path: string };

/** The default backup storage's location: `$SECONDARY_STORAGE_DIR/backups`. */
export const DEFAULT_BACKUP_STORAGE: BackupStorageLocation = { root: 'secondary', path: 'backups' };

/** A backup's folder, relative to its storage: the contract's layout. */
export function backupFolder(organizationId: string, backupId: string): string {
  return `${organizationId}/${backupId}`;
}

/** The file of one volume inside a backup's folder. */
export function backupVolumeFile(volumeId: string): string {
  return `${volumeId}.qcow2`;
}

export const BACKUP_MANIFEST_FILE = 'manifest.json';

/** One volume of the instance as the backup job needs it, in disk order (ROOT first). */
export interface BackupVolumeSpec {
  volumeId: string;
  name: string;
  type: 'ROOT' | 'DATADISK';
  sizeGiB: number;
}

/** One volume as the manifest records it, once its file is written and flushed. */
export interface BackupManifestVolume {
  volumeId: string;
  name: string;
  type: 'ROOT' | 'DATADISK';
  virtualSizeBytes: number;
  /** The file's name inside the backup's folder. */
  file: string;
  /** sha256 of the file's bytes, computed after it was flushed; verified before any restore reads it. */
  sha256: string;
  /** Bytes the file occupies. */
  sizeBytes: number;
  /** An incremental's backing file, relative to this file (`../<parentBackupId>/<volumeId>.qcow2`); null for a full. */
  backingFile: string | null;
}

/** `manifest.json`: what the backup holds, readable without the database (an operator's last resort). */
export interface BackupManifest {
  format: 1;
  backupId: string;
  organizationId: string;
  instanceId: string;
  instanceName: string;
  mode: BackupModeName;
  compression: BackupCompressionName;
  incremental: boolean;
  parentBackupId: string | null;
  /** What the instance was doing when the backup began. */
  instanceWasRunning: boolean;
  quiesced: boolean;
  /** RFC 3339 UTC. */
  startedAt: string;
  completedAt: string;
  volumes: BackupManifestVolume[];
}

/** A backup that a restore or an incremental reads: where it lies. */
export interface BackupLocation {
  backupId: string;
  storage: BackupStorageLocation;
  /** Relative to the storage: `backupFolder(organizationId, backupId)`. */
  folder: string;
}

export interface CreateBackupPayload extends BackupLocation {
  organizationId: string;
  instanceId: string;
  instanceName: string;
  mode: BackupModeName;
  compression: BackupCompressionName;
  /** Freeze the guest's file systems for the consistent point (SNAPSHOT mode of a running guest). */
  quiesce: boolean;
  /** Every disk of the instance, ROOT first. */
  volumes: BackupVolumeSpec[];
  /** An incremental's parent: each volume's file backs onto the parent's file of the same volume. Absent: a full. */
  parent?: BackupLocation;
  /** Bound of the storage probe (a write and a read in the folder): a dead mount fails the job instead of hanging it. */
  probeTimeoutSeconds: number;
  /** STOP mode: the graceful shutdown is forced off after this (the api's INSTANCE_STOP_TIMEOUT_SECONDS). */
  stopTimeoutSeconds?: number;
  /**
   * The api saw the instance RUNNING when it asked (and keeps it from being stopped until the job ends): a domain
   * the agent finds shut off was stopped by an earlier delivery of this backup, and is started again after the copy.
   */
  instanceRunning?: boolean;
}

export interface CreateBackupResult {
  backupId: string;
  /** The manifest was there already (a repeated delivery): nothing was written. */
  alreadyExisted: boolean;
  manifest: BackupManifest;
  /** Bytes the backup's folder occupies on its own (its files, not its parent's). */
  sizeBytes: number;
  /** How long the guest was paused or stopped for it (SUSPEND, STOP, and the instant of SNAPSHOT); null if not running. */
  guestPausedMs: number | null;
  /** Whether the instance runs now (it should be as it was; false after a failed restart is reported, never hidden). */
  instanceRunning: boolean;
}

/** One volume a restore writes: the backup's volume `sourceVolumeId` into the volume `volumeId`. */
export interface RestoreTarget {
  sourceVolumeId: string;
  volumeId: string;
  sizeGiB: number;
}

export interface RestoreBackupPayload {
  /** The backup restored, then its ancestors (parent, grandparent, …): every manifest's sha256 is verified first. */
  chain: BackupLocation[];
  instanceId: string;
  targets: RestoreTarget[];
  /**
   * Over existing volumes of a stopped instance: their files are written in place (`qemu-img convert -n`), so the
   * internal snapshots inside them (the safety snapshot taken before) stay. Otherwise new volume files are created.
   */
  overwrite: boolean;
  probeTimeoutSeconds: number;
}

export interface RestoreBackupResult {
  restored: string[];
  /** Files whose sha256 matched their manifest before anything was written. */
  verifiedFiles: number;
}

export interface DeleteBackupPayload extends BackupLocation {
  probeTimeoutSeconds: number;
}

export interface DeleteBackupResult {
  alreadyGone: boolean;
}
