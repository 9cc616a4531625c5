/**
 * What an agent reports of its disks for the storage audit (the INVENTORY job), and what the api asks it to
 * remove (REPAIR_STORAGE). The agent never reads the database: it lists what it sees, the api compares.
 */

/** Which kind of file an image is; decides how the api finds the row that owns it. */
export type InventoryImageKind = 'volume' | 'template' | 'transfer' | 'backup';

/**
 * `qemu-img check` of one image: `clean`; `leaks` (leaked clusters only: harmless, repairable with -r leaks);
 * `corrupt` (corruptions, or "further writes may corrupt"); `unreadable` (not a qcow2, or qemu-img failed);
 * `timeout` (the check ran out of its bound); `skipped` (the driver cannot check, e.g. the simulator's files).
 */
export type ImageCheckStatus = 'clean' | 'leaks' | 'corrupt' | 'unreadable' | 'timeout' | 'skipped';

export interface ImageCheck {
  status: ImageCheckStatus;
  leakedClusters?: number;
  corruptions?: number;
  /** A short reason for an operator (no host paths). */
  message?: string;
}

/** One internal snapshot inside an image: a volume snapshot (tag = snapshot id) or a recovery point's. */
export interface InventoryTag {
  tag: string;
  /** When qemu-img says the snapshot was taken (ISO 8601). */
  createdAt: string;
  /** Saved guest memory in this snapshot (a recovery point with memory); 0 for a disk-only one. */
  vmStateBytes: number;
}

export interface InventoryImage {
  kind: InventoryImageKind;
  /** The owner's id as the file is named: volume id, template id, transfer (job) id; a backup's relative path. */
  id: string;
  /** Relative to the agent's storage (volumes) or to secondary storage (the rest); never an absolute path. */
  path: string;
  /** Bytes the file occupies. */
  sizeBytes: number;
  virtualSizeBytes: number | null;
  /** The file's mtime (ISO 8601): a file younger than the api's grace period is never a finding. */
  modifiedAt: string;
  /** A process held the image (a running domain): checked read-only with -U, never repaired. */
  inUse: boolean;
  tags: InventoryTag[];
  check: ImageCheck;
}

export interface StorageInventory {
  /** When the listing began (ISO 8601): rows created after this cannot be judged by it. */
  takenAt: string;
  /**
   * Only files in the layout (`volumes/<uuid>.qcow2`, `templates/<uuid>.qcow2`, files in `transfers/`). Never
   * listed: the drivers' temporary files (`<final name>.partial-<uuid>`, written before an image is published
   * under its final name, left by a crash for the next operation on that name to remove), other names, and
   * anything that is not a regular file. So an api need not filter them (docs/storage-audit.md).
   */
  images: InventoryImage[];
}

/** An internal snapshot no row owns, to be removed with the same idempotent operation as deleteSnapshot. */
export interface OrphanTag {
  volumeId: string;
  tag: string;
  /** The instance the volume is attached to, so a hypervisor driver removes the tag live from a running disk. */
  instanceId?: string;
}

/** What REPAIR_STORAGE removes: only what the api found orphaned (no row owns it) and older than its grace period. */
export interface RepairTargets {
  tags: OrphanTag[];
  volumeIds: string[];
  templateIds: string[];
  /** Paths under `transfers/`, relative to secondary storage. */
  transferPaths: string[];
}

export interface RepairFailure {
  /** `tag:<volumeId>/<tag>`, `volume:<id>`, `template:<id>` or `transfer:<path>`. */
  target: string;
  message: string;
}

export interface RepairReport {
  removed: string[];
  failed: RepairFailure[];
}

/**
 * Why a job failed, when the api must act on the cause rather than only show the message: a snapshot whose
 * tag the disk lacks is marked ERROR ("missing on disk since …") instead of staying COMPLETED.
 */
export enum JobFailureReason {
  SNAPSHOT_MISSING = 'snapshot-missing',
  IMAGE_DAMAGED = 'image-damaged',
}
