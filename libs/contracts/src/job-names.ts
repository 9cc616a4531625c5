/** Every operation an agent carries out. Job names are public API between api and agent: never rename one. */
export enum JobName {
  CREATE_VOLUMES = 'create-volumes',
  CREATE_SNAPSHOT = 'create-snapshot',
  DELETE_SNAPSHOT = 'delete-snapshot',
}

export interface VolumeSpec {
  volumeId: string;
  sizeGiB: number;
}

/** Payload of each job name: what the agent needs, and nothing it must look up. */
export interface JobPayloads {
  [JobName.CREATE_VOLUMES]: { volumes: VolumeSpec[] };
  [JobName.CREATE_SNAPSHOT]: { volumeId: string; snapshotId: string };
  [JobName.DELETE_SNAPSHOT]: { volumeId: string; snapshotId: string };
}

/** Data an agent returns on success, per job name. */
export interface JobResults {
  [JobName.CREATE_VOLUMES]: { created: string[] };
  [JobName.CREATE_SNAPSHOT]: { snapshotId: string; alreadyExisted: boolean; sizeBytes: number | null };
  [JobName.DELETE_SNAPSHOT]: { snapshotId: string; alreadyGone: boolean };
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
