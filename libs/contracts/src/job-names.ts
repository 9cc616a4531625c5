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

/** Payload of each job name: what the agent needs, and nothing it must look up. */
export interface JobPayloads {
  [JobName.CREATE_VOLUMES]: { volumes: VolumeSpec[] };
  [JobName.CREATE_SNAPSHOT]: { volumeId: string; snapshotId: string };
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
  /** Removes volume files (and the internal snapshots inside them). */
  [JobName.DESTROY_VOLUMES]: { volumeIds: string[] };
}

/** Data an agent returns on success, per job name. */
export interface JobResults {
  [JobName.CREATE_VOLUMES]: { created: string[] };
  [JobName.CREATE_SNAPSHOT]: { snapshotId: string; alreadyExisted: boolean; sizeBytes: number | null };
  [JobName.DELETE_SNAPSHOT]: { snapshotId: string; alreadyGone: boolean };
  [JobName.REVERT_SNAPSHOT]: { snapshotId: string };
  [JobName.EXPORT_SNAPSHOT]: { destination: string; virtualSizeBytes: number };
  [JobName.IMPORT_TEMPLATE]: { templateId: string; virtualSizeBytes: number };
  [JobName.DELETE_TEMPLATE]: { templateId: string; alreadyGone: boolean };
  [JobName.DESTROY_VOLUMES]: { destroyed: string[] };
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
  { ok: true; data: JobResults[N]; message?: string } | { ok: false; message: string; retryable?: boolean };

export const ALL_JOB_NAMES: readonly JobName[] = Object.values(JobName);
