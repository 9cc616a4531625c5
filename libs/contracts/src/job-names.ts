import type {
  CreateBackupPayload,
  CreateBackupResult,
  DeleteBackupPayload,
  DeleteBackupResult,
  RestoreBackupPayload,
  RestoreBackupResult,
} from './backups.js';
import type { JobFailureReason, RepairReport, RepairTargets, StorageInventory } from './inventory.js';

/** Every operation an agent carries out. Job names are public API between api and agent: never rename one. */
export enum JobName {
  CREATE_VOLUMES = 'create-volumes',
  CREATE_SNAPSHOT = 'create-snapshot',
  DELETE_SNAPSHOT = 'delete-snapshot',
  REVERT_SNAPSHOT = 'revert-snapshot',
  EXPORT_SNAPSHOT = 'export-snapshot',
  IMPORT_TEMPLATE = 'import-template',
  DELETE_TEMPLATE = 'delete-template',
  DESTROY_VOLUMES = 'destroy-volumes',
  START_INSTANCE = 'start-instance',
  STOP_INSTANCE = 'stop-instance',
  CREATE_INSTANCE_SNAPSHOT = 'create-instance-snapshot',
  REVERT_INSTANCE_SNAPSHOT = 'revert-instance-snapshot',
  DELETE_INSTANCE_SNAPSHOT = 'delete-instance-snapshot',
  /** Lists what the host's disks hold, for the storage audit. */
  INVENTORY = 'inventory',
  /** Removes orphans the storage audit found. */
  REPAIR_STORAGE = 'repair-storage',
  /** Every disk of an instance to a backup storage, in one of the three modes (issue 13). */
  CREATE_BACKUP = 'create-backup',
  RESTORE_BACKUP = 'restore-backup',
  DELETE_BACKUP = 'delete-backup',
}

/**
 * An instance as the hypervisor needs it: its id (the libvirt domain is `i-<instanceId>`) and its volumes in
 * disk order, ROOT first (vda), then the data disks by name (vdb, vdc, …).
 */
export interface InstanceDisks {
  instanceId: string;
  volumeIds: string[];
}

/** An instance to start, with the vCPUs and memory its domain is defined with. */
export interface StartInstancePayload extends InstanceDisks {
  /** Absent in a job of an api older than instance sizes: the agent's default (or the defined domain's own). */
  cpuCount?: number;
  memoryMiB?: number;
}

/**
 * Where a new volume's data comes from. Paths are relative to secondary storage (shared by every host);
 * a snapshot source is an internal snapshot of a volume file on the same host.
 */
export type VolumeSource =
  | { kind: 'blank' }
  | { kind: 'secondary'; path: string; removeAfter?: boolean }
  | { kind: 'snapshot'; volumeId: string; snapshotId: string };

export interface VolumeSpec {
  volumeId: string;
  /** The virtual size; a copied source smaller than this is grown to it. */
  sizeGiB: number;
  /** Absent means blank (agents before 0.2 know only blank volumes). */
  source?: VolumeSource;
}

/** Secondary-storage path of a template's image: the contract's layout. */
export function templatePath(templateId: string): string {
  return `templates/${templateId}.qcow2`;
}

/** Secondary-storage path of a snapshot on its way from one host to another. */
export function transferPath(jobId: string): string {
  return `transfers/${jobId}.qcow2`;
}

/**
 * The folders of secondary storage that agents write themselves (`templates/`, `transfers/`). An operator's
 * image is never imported from one of them: a template file there is some organization's data, and a transfer
 * is a customer's snapshot on its way between hosts.
 */
export const AGENT_SECONDARY_FOLDERS: readonly string[] = ['templates', 'transfers'];

/** The agent-written folder that a path relative to secondary storage lies in, or null (a lexical check). */
export function agentSecondaryFolderOf(relativePath: string): string | null {
  const first = relativePath.split('/')[0];
  return AGENT_SECONDARY_FOLDERS.includes(first) ? first : null;
}

/** Payload of each job name: what the agent needs, and nothing it must look up. */
export interface JobPayloads {
  [JobName.CREATE_VOLUMES]: { volumes: VolumeSpec[] };
  /**
   * `instanceId` names the instance the volume is attached to, so a hypervisor driver can take the snapshot of
   * a running domain's disk; `quiesce` asks for the guest's filesystems to be frozen (fails if they cannot be).
   */
  [JobName.CREATE_SNAPSHOT]: { volumeId: string; snapshotId: string; instanceId?: string; quiesce?: boolean };
  [JobName.DELETE_SNAPSHOT]: { volumeId: string; snapshotId: string };
  /** Rolls the volume's active layer back to the snapshot; the snapshot and later ones stay. */
  [JobName.REVERT_SNAPSHOT]: { volumeId: string; snapshotId: string };
  /** Writes the snapshot as a standalone qcow2 (no backing file) at `destination` in secondary storage. */
  [JobName.EXPORT_SNAPSHOT]: { volumeId: string; snapshotId: string; destination: string };
  /**
   * Checks an image an operator placed at `path` in secondary storage (a plain qcow2 inside that storage: no
   * backing file, no external data file) and copies it to the template's own path.
   */
  [JobName.IMPORT_TEMPLATE]: { templateId: string; path: string };
  [JobName.DELETE_TEMPLATE]: { templateId: string };
  /**
   * Removes volume files (and the internal snapshots inside them). `instanceId`, when the volumes are a destroyed
   * instance's, lets a hypervisor driver forget that instance first (libvirt: undefine its stopped domain and its
   * snapshot metadata); agents before 0.4 ignore it.
   */
  [JobName.DESTROY_VOLUMES]: { volumeIds: string[]; instanceId?: string };
  /** Defines the instance's domain from its disks if needed and starts it; a running domain is success. */
  [JobName.START_INSTANCE]: StartInstancePayload;
  /** A graceful shutdown, forced after `timeoutSeconds`; a stopped domain is success. */
  [JobName.STOP_INSTANCE]: InstanceDisks & { timeoutSeconds: number };
  /** An instance snapshot: every disk at one instant, with the guest's memory when asked (running instances only). */
  [JobName.CREATE_INSTANCE_SNAPSHOT]: InstanceDisks & {
    instanceSnapshotId: string;
    withMemory: boolean;
    quiesce: boolean;
  };
  /** Brings every disk (and the memory, if saved) back to the instance snapshot; running afterwards only if asked. */
  [JobName.REVERT_INSTANCE_SNAPSHOT]: InstanceDisks & { instanceSnapshotId: string; startAfter: boolean };
  [JobName.DELETE_INSTANCE_SNAPSHOT]: InstanceDisks & { instanceSnapshotId: string };
  /** Every image the agent can see, each checked with `qemu-img check` bounded by `checkTimeoutSeconds`. */
  [JobName.INVENTORY]: { checkTimeoutSeconds: number };
  /** Removes each target with the driver operation a delete uses; one failure does not stop the others. */
  [JobName.REPAIR_STORAGE]: RepairTargets;
  [JobName.CREATE_BACKUP]: CreateBackupPayload;
  [JobName.RESTORE_BACKUP]: RestoreBackupPayload;
  /** Removes the backup's folder; a missing folder is success with alreadyGone. */
  [JobName.DELETE_BACKUP]: DeleteBackupPayload;
}

/** Data an agent returns on success, per job name. */
export interface JobResults {
  [JobName.CREATE_VOLUMES]: { created: string[] };
  /** `quiesced`: the guest's filesystems were frozen for it (absent from agents before 0.3: not quiesced). */
  [JobName.CREATE_SNAPSHOT]: {
    snapshotId: string;
    alreadyExisted: boolean;
    sizeBytes: number | null;
    quiesced?: boolean;
  };
  [JobName.DELETE_SNAPSHOT]: { snapshotId: string; alreadyGone: boolean };
  [JobName.REVERT_SNAPSHOT]: { snapshotId: string };
  [JobName.EXPORT_SNAPSHOT]: { destination: string; virtualSizeBytes: number };
  [JobName.IMPORT_TEMPLATE]: { templateId: string; virtualSizeBytes: number };
  [JobName.DELETE_TEMPLATE]: { templateId: string; alreadyGone: boolean };
  [JobName.DESTROY_VOLUMES]: { destroyed: string[] };
  [JobName.START_INSTANCE]: { instanceId: string; alreadyRunning: boolean };
  [JobName.STOP_INSTANCE]: { instanceId: string; alreadyStopped: boolean; forced: boolean };
  [JobName.CREATE_INSTANCE_SNAPSHOT]: {
    instanceSnapshotId: string;
    alreadyExisted: boolean;
    quiesced: boolean;
    /** `virsh snapshot-dumpxml` of a point libvirt made (with memory); absent for internal disk snapshots. */
    snapshotXml?: string;
  };
  /** `running`: the instance runs after the revert. */
  [JobName.REVERT_INSTANCE_SNAPSHOT]: { instanceSnapshotId: string; running: boolean };
  [JobName.DELETE_INSTANCE_SNAPSHOT]: { instanceSnapshotId: string; alreadyGone: boolean };
  [JobName.INVENTORY]: StorageInventory;
  [JobName.REPAIR_STORAGE]: RepairReport;
  [JobName.CREATE_BACKUP]: CreateBackupResult;
  [JobName.RESTORE_BACKUP]: RestoreBackupResult;
  [JobName.DELETE_BACKUP]: DeleteBackupResult;
}

/** One job on the wire: the discriminated union that handlers narrow on `name`. */
export type JobEnvelope<N extends JobName = JobName> = {
  [K in N]: {
    /** The Job row's id: results are applied to that row. */
    jobId: string;
    /** Which delivery this is; a re-dispatch after a lapsed lease increments it. */
    attempt: number;
    name: K;
    payload: JobPayloads[K];
  };
}[N];

/** A handler's outcome: failures travel as data with a readable message, never as a thrown error. */
export type JobOutcome<N extends JobName = JobName> =
  | { ok: true; data: JobResults[N]; message?: string }
  | { ok: false; message: string; retryable?: boolean; reason?: JobFailureReason };

export const ALL_JOB_NAMES: readonly JobName[] = Object.values(JobName);
