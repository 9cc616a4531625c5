import type { AgentDriverName } from '@snapdeck/config';
import {
  type CreateBackupPayload,
  type CreateBackupResult,
  type DeleteBackupPayload,
  type DeleteBackupResult,
  type ImageCheck,
  JobFailureReason,
  type RestoreBackupPayload,
  type RestoreBackupResult,
  type StorageInventory,
  type VolumeSource,
} from '@snapdeck/contracts';

/** One internal snapshot of a volume, as the disk reports it. */
export interface VolumeSnapshot {
  /** The snapshot's tag: Snapdeck tags snapshots with the snapshot id. */
  tag: string;
  createdAt: Date;
}

export interface CreateVolumeResult {
  /** The volume existed already (a repeated delivery): nothing was written. */
  alreadyExisted: boolean;
}

export interface CreateSnapshotResult {
  alreadyExisted: boolean;
  /** Bytes the snapshot holds on its own, when the driver can tell; internal qcow2 snapshots cannot. */
  sizeBytes: number | null;
  /** The guest's file systems were frozen for this snapshot (false when it existed already or nothing ran). */
  quiesced: boolean;
}

/** Where a volume is attached, so that a driver can act on a running instance's disk instead of its file. */
export interface VolumeContext {
  /**
   * The instance the volume is attached to, when the job says so. A hypervisor driver that is not told looks
   * the volume up among its running instances itself: a running domain's disk must never be touched offline.
   */
  instanceId?: string;
}

export interface CreateSnapshotOptions extends VolumeContext {
  /** Freeze the guest's file systems around the snapshot; fail, taking nothing, when they cannot be frozen. */
  quiesce?: boolean;
}

export interface DeleteSnapshotResult {
  /** No snapshot had that tag (a repeated delivery, or it never existed): nothing was changed. */
  alreadyGone: boolean;
}

export interface CopyResult {
  /** The destination existed already (a repeated delivery): nothing was written. */
  alreadyExisted: boolean;
  /** The virtual size of the image at the destination. */
  virtualSizeBytes: number;
}

export interface RemoveResult {
  /** There was nothing to remove (a repeated delivery, or it never existed). */
  alreadyGone: boolean;
}

/**
 * An expected failure of a driver operation. Its message is written for an operator and travels to the
 * api as the job's error, so it carries no stack trace and no host path.
 */
export class DriverError extends Error {
  constructor(
    message: string,
    /** Trying the same operation again later may succeed (a lock held by another process, a simulated fault). */
    readonly retryable = false,
    /** Why it failed, when the api must act on the cause (a snapshot missing on disk is marked ERROR). */
    readonly reason?: JobFailureReason,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * The preflight failure of an operation that reads a snapshot (revert, export, clone, backup) whose tag the disk
 * lacks: said plainly, with the reason that lets the api mark the snapshot ERROR, instead of qemu-img's words.
 */
export function snapshotMissing(action: string, volumeId: string, snapshotId: string, what = 'snapshot'): DriverError {
  return new DriverError(
    `${action}: ${what} ${snapshotId} is missing from volume ${volumeId} on disk`,
    false,
    JobFailureReason.SNAPSHOT_MISSING,
  );
}

export interface InventoryOptions {
  /** Bound of each `qemu-img check`; the process is killed after it and the image reported `timeout`. */
  checkTimeoutMs: number;
}

/** What the start-up check found of one image the agent was writing when it last stopped. */
export interface InterruptedImage {
  volumeId: string;
  /**
   * `clean`: nothing to say; `repaired`: leaks removed with `qemu-img check -r leaks`, clean now; `damaged`:
   * corrupt, unreadable, or still not clean after the repair; `deferred`: not decided this time (held by another
   * process with leaks, or out of time): it stays journaled and is checked again at the next start.
   */
  status: 'clean' | 'repaired' | 'damaged' | 'deferred';
  check: ImageCheck;
  /** Leaked clusters found before the repair. */
  leakedClusters?: number;
  /** For the operator (no host paths). */
  message: string;
}

export interface InterruptedImagesOptions {
  /** Bound of the whole check: images not reached in time stay journaled for the next start. */
  timeoutMs: number;
}

/**
 * The message of a driver that has no hypervisor: it works on the files of stopped instances only.
 */
export function cannotRunInstances(driver: AgentDriverName): string {
  return `the ${driver} driver cannot run instances: set AGENT_DRIVER=libvirt on KVM nodes (simulator for tests)`;
}

/**
 * The volume port: what the agent needs from a back-end for disks, templates and their snapshots, on every kind
 * of node. Running instances are the other port, `InstanceDriver`, which only a driver with a hypervisor
 * implements. Every mutating operation is idempotent, because the queue may deliver a job twice: a repeated call
 * reports what was already there instead of failing.
 *
 * An abstract class rather than an interface so that it doubles as the Nest injection token.
 */
export abstract class VolumeDriver {
  abstract readonly name: AgentDriverName;

  /** Checks the back-end is usable (tools installed, storage writable) so a broken node refuses to start. */
  abstract init(): Promise<void>;

  abstract volumeExists(volumeId: string): Promise<boolean>;

  /**
   * Creates a volume of `sizeGiB` from its source: blank, a full copy of a qcow2 file in secondary storage, or a
   * full copy of an internal snapshot of another volume on this host. A copy smaller than `sizeGiB` is grown to
   * it; a source larger than `sizeGiB` is refused. An existing volume of the same size is success. The source
   * is never removed here, even with `removeAfter`: see `removeTransfer`.
   */
  abstract createVolume(volumeId: string, sizeGiB: number, source?: VolumeSource): Promise<CreateVolumeResult>;

  /** Removes a volume's file and the snapshots inside it; a missing volume is success with alreadyGone. */
  abstract destroyVolume(volumeId: string): Promise<RemoveResult>;

  /**
   * Takes a snapshot tagged with the snapshot id; an existing tag is success with alreadyExisted. On a running
   * instance's disk it is taken live (the same internal snapshot as offline), with the guest's file systems
   * frozen around it when `quiesce` is asked; a driver that cannot quiesce fails instead of ignoring it.
   */
  abstract createSnapshot(
    volumeId: string,
    snapshotId: string,
    options?: CreateSnapshotOptions,
  ): Promise<CreateSnapshotResult>;

  /** Removes the snapshot tagged with the snapshot id (live on a running disk); a missing tag is alreadyGone. */
  abstract deleteSnapshot(volumeId: string, snapshotId: string, context?: VolumeContext): Promise<DeleteSnapshotResult>;

  /** Rolls the volume's data back to the snapshot (which stays, with every other snapshot); a missing tag fails. */
  abstract revertSnapshot(volumeId: string, snapshotId: string): Promise<void>;

  /**
   * Writes the snapshot as a standalone qcow2 (no backing file) at `destination`, relative to secondary storage,
   * published only once complete. An existing destination is success.
   */
  abstract exportSnapshot(volumeId: string, snapshotId: string, destination: string): Promise<CopyResult>;

  /**
   * Checks the image at `path` (relative to secondary storage, and really inside it) is a plain qcow2 — no
   * backing file, no external data file — and copies it to the template's own path. An existing template is
   * success.
   */
  abstract importTemplate(templateId: string, path: string): Promise<CopyResult>;

  /** Removes a template's image from secondary storage; a missing one is success with alreadyGone. */
  abstract deleteTemplate(templateId: string): Promise<RemoveResult>;

  /** Removes a file under `transfers/` in secondary storage once copied; a missing one is success with alreadyGone. */
  abstract removeTransfer(path: string): Promise<RemoveResult>;

  abstract listSnapshots(volumeId: string): Promise<VolumeSnapshot[]>;

  /**
   * Everything this host's storage holds, for the storage audit: volume files with their internal snapshots,
   * templates and transfers in secondary storage, each with sizes, mtime and a bounded `qemu-img check`. Paths
   * are relative; files a driver is still writing (`*.partial-*`) are never listed. Reads only.
   */
  abstract inventory(options: InventoryOptions): Promise<StorageInventory>;

  /**
   * Backs up every volume of an instance to a backup storage (issue 13): the storage probed first with a bound,
   * one qcow2 per volume, then `manifest.json`, whose presence marks the backup complete (a repeated delivery
   * finds it: alreadyExisted). A stopped instance is copied as it is; a driver with a hypervisor backs a running
   * one up in the payload's mode and leaves it in the state it had, whatever fails. A failed backup leaves none
   * of its files behind.
   */
  abstract createBackup(payload: CreateBackupPayload): Promise<CreateBackupResult>;

  /**
   * Restores a backup (its chain flattened) into new volumes, or with `overwrite` over the existing volumes of a
   * stopped instance, in place, keeping their internal snapshots. Every file of the chain is checked against its
   * manifest's sha256 before anything is written.
   */
  abstract restoreBackup(payload: RestoreBackupPayload): Promise<RestoreBackupResult>;

  /** Removes a backup's folder; a missing one is success with alreadyGone. */
  abstract deleteBackup(payload: DeleteBackupPayload): Promise<DeleteBackupResult>;

  /**
   * Run at start-up, before the image check: finishes what a backup interrupted by the agent's death left of a
   * running instance (paused, stopped, a temporary snapshot), from the driver's journal. Messages for the log; a
   * driver without a hypervisor has nothing to finish.
   */
  recoverInterruptedBackups(): Promise<string[]> {
    return Promise.resolve([]);
  }

  /**
   * Run at start-up, before any job is taken: checks every image that a write of this driver's metadata
   * (snapshot create/delete/revert) was journaled for and never finished (the agent was killed meanwhile),
   * repairs leaks when no process holds the image, and says what it found. A driver that writes no images
   * (the simulator) finds nothing.
   */
  abstract checkInterruptedImages(options: InterruptedImagesOptions): Promise<InterruptedImage[]>;
}
