import type { JobEntity, SnapshotEntity } from '@snapdeck/persistence';

/** A snapshot and the job of the operation just opened on it. */
export interface SnapshotOperation {
  snapshot: SnapshotEntity;
  job: JobEntity;
}
