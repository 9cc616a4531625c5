/** Roles of the contract, from least to most powerful within an organization. */
export enum Role {
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
  SUPPORT = 'SUPPORT',
  ORG_ADMIN = 'ORG_ADMIN',
  MEMBER = 'MEMBER',
  READ_ONLY = 'READ_ONLY',
}

export enum SnapshotState {
  IN_PROGRESS = 'IN_PROGRESS',
  COMPLETED = 'COMPLETED',
  DESTROYING = 'DESTROYING',
  ERROR = 'ERROR',
}

export enum VolumeType {
  ROOT = 'ROOT',
  DATADISK = 'DATADISK',
}

export enum VolumeState {
  CREATING = 'CREATING',
  READY = 'READY',
  SNAPSHOTTING = 'SNAPSHOTTING',
  REVERTING = 'REVERTING',
  DESTROYING = 'DESTROYING',
  ERROR = 'ERROR',
}

export enum InstanceState {
  CREATING = 'CREATING',
  STOPPED = 'STOPPED',
  STARTING = 'STARTING',
  RUNNING = 'RUNNING',
  STOPPING = 'STOPPING',
  DESTROYING = 'DESTROYING',
  ERROR = 'ERROR',
}

export enum TemplateState {
  CREATING = 'CREATING',
  READY = 'READY',
  DESTROYING = 'DESTROYING',
  ERROR = 'ERROR',
}

export enum HostState {
  UP = 'UP',
  DOWN = 'DOWN',
}

export enum JobStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/** How an occurrence of a snapshot policy ended: what a policy's lastStatus shows. */
export enum PolicyRunStatus {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  MISSED = 'MISSED',
}

/** A policy run's row: RUNNING while its snapshot job is out, then one of PolicyRunStatus. */
export enum PolicyRunState {
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  MISSED = 'MISSED',
}

/** A backup's row (issue 13): CREATING while its job writes it, READY once on its storage. */
export enum BackupState {
  CREATING = 'CREATING',
  READY = 'READY',
  DESTROYING = 'DESTROYING',
  ERROR = 'ERROR',
}

/** How a running instance is backed up (a stopped one is always a plain copy). */
export enum BackupMode {
  SNAPSHOT = 'SNAPSHOT',
  SUSPEND = 'SUSPEND',
  STOP = 'STOP',
}

/** How the backup's qcow2 files are written: compressed clusters (ZSTD, GZIP) or plain. */
export enum BackupCompression {
  NONE = 'NONE',
  ZSTD = 'ZSTD',
  GZIP = 'GZIP',
}
