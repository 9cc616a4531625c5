import type { AgentDriverName } from '@snapdeck/config';

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
}

export interface DeleteSnapshotResult {
  /** No snapshot had that tag (a repeated delivery, or it never existed): nothing was changed. */
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
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * What the agent needs from a hypervisor back-end. Every mutating operation is idempotent, because the queue
 * may deliver a job twice: a repeated call reports what was already there instead of failing.
 *
 * An abstract class rather than an interface so that it doubles as the Nest injection token.
 */
export abstract class VolumeDriver {
  abstract readonly name: AgentDriverName;

  /** Checks the back-end is usable (tools installed, storage writable) so a broken node refuses to start. */
  abstract init(): Promise<void>;

  abstract volumeExists(volumeId: string): Promise<boolean>;

  /** Creates a blank volume; an existing volume of the same size is success. */
  abstract createVolume(volumeId: string, sizeGiB: number): Promise<CreateVolumeResult>;

  /** Takes a snapshot tagged with the snapshot id; an existing tag is success with alreadyExisted. */
  abstract createSnapshot(volumeId: string, snapshotId: string): Promise<CreateSnapshotResult>;

  /** Removes the snapshot tagged with the snapshot id; a missing tag is success with alreadyGone. */
  abstract deleteSnapshot(volumeId: string, snapshotId: string): Promise<DeleteSnapshotResult>;

  abstract listSnapshots(volumeId: string): Promise<VolumeSnapshot[]>;
}
