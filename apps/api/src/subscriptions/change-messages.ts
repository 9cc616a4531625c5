import { JobStatus, type SnapshotState } from '@snapdeck/domain';
import type { JobEntity, ReadScope, SnapshotEntity } from '@snapdeck/persistence';
import type { VolumeRow } from '../volumes/models/volume.model.js';

/**
 * What travels on the pub/sub channels between api replicas: plain JSON, so dates arrive as ISO strings
 * through Redis and as Date objects through the in-process PubSub; `revive*` accepts both.
 */

/** One channel per environment for snapshot changes, one per job; prefixed so test runs sharing a Redis stay apart. */
export function snapshotChannel(prefix: string, environmentId: string): string {
  return `${prefix}:changes:environment:${environmentId}:snapshots`;
}

export function jobChannel(prefix: string, jobId: string): string {
  return `${prefix}:changes:job:${jobId}`;
}

type Wire<T> = {
  [K in keyof T]: T[K] extends Date ? Date | string : T[K] extends Date | null ? Date | string | null : T[K];
};

export type SnapshotRow = Pick<
  SnapshotEntity,
  | 'id'
  | 'organizationId'
  | 'environmentId'
  | 'volumeId'
  | 'instanceId'
  | 'name'
  | 'description'
  | 'state'
  | 'quiesced'
  | 'error'
  | 'lastJobId'
  | 'createdAt'
  | 'completedAt'
  | 'policyId'
  | 'protected'
>;

/** A removed snapshot carries its volume's row as the Volume type shows it: the row may be gone too. */
export type { VolumeRow };

export type JobRow = Pick<
  JobEntity,
  | 'id'
  | 'organizationId'
  | 'type'
  | 'status'
  | 'error'
  | 'attempt'
  | 'resourceType'
  | 'resourceId'
  | 'createdAt'
  | 'startedAt'
  | 'finishedAt'
>;

export interface SnapshotMessage {
  snapshot: Wire<SnapshotRow>;
  /** The row is gone (the disk confirmed the delete); `snapshot` is the row as it was last, DESTROYING. */
  removed: boolean;
  /**
   * With `removed`: the snapshot's volume as it was before the job closed, so `snapshot.volume` resolves when
   * the same job removed the volume as well (destroyInstance, deleteVolume).
   */
  volume?: Wire<VolumeRow>;
}

export interface JobMessage {
  job: Wire<JobRow>;
}

export function snapshotMessage(row: SnapshotEntity, removed: boolean, volume?: VolumeRow): SnapshotMessage {
  return {
    removed,
    ...(volume ? { volume: volumeRow(volume) } : {}),
    snapshot: {
      id: row.id,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      volumeId: row.volumeId,
      instanceId: row.instanceId,
      name: row.name,
      description: row.description,
      state: row.state,
      quiesced: row.quiesced,
      error: row.error,
      lastJobId: row.lastJobId,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      policyId: row.policyId,
      protected: row.protected,
    },
  };
}

function volumeRow(row: VolumeRow): VolumeRow {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    state: row.state,
    sizeGiB: row.sizeGiB,
    createdAt: row.createdAt,
    organizationId: row.organizationId,
    environmentId: row.environmentId,
    instanceId: row.instanceId,
    hostId: row.hostId,
  };
}

export function jobMessage(row: JobEntity): JobMessage {
  return {
    job: {
      id: row.id,
      organizationId: row.organizationId,
      type: row.type,
      status: row.status,
      error: row.error,
      attempt: row.attempt,
      resourceType: row.resourceType,
      resourceId: row.resourceId,
      createdAt: row.createdAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    },
  };
}

function date(value: Date | string): Date;
function date(value: Date | string | null): Date | null;
function date(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

export function reviveSnapshot(wire: Wire<SnapshotRow>): SnapshotRow & { state: SnapshotState } {
  // A replica of an older release publishes no `quiesced`: not quiesced, as the column's default says.
  return {
    ...wire,
    quiesced: wire.quiesced ?? false,
    // Nor, before policies, `policyId` and `protected`.
    policyId: wire.policyId ?? null,
    protected: wire.protected ?? false,
    createdAt: date(wire.createdAt),
    completedAt: date(wire.completedAt),
  };
}

export function reviveVolume(wire: Wire<VolumeRow>): VolumeRow {
  return { ...wire, createdAt: date(wire.createdAt) };
}

export function reviveJob(wire: Wire<JobRow>): JobRow {
  return {
    ...wire,
    createdAt: date(wire.createdAt),
    startedAt: date(wire.startedAt),
    finishedAt: date(wire.finishedAt),
  };
}

/**
 * Whether a row of `organizationId` is within a subscriber's read scope. The channel already names a resource
 * the subscriber was allowed to read when it subscribed; this is the second lock on the same door.
 */
export function visibleTo(scope: ReadScope, organizationId: string | null): boolean {
  return scope.kind === 'all' || scope.organizationId === organizationId;
}

const STATUS_RANK: Readonly<Record<JobStatus, number>> = {
  [JobStatus.PENDING]: 0,
  [JobStatus.RUNNING]: 1,
  [JobStatus.SUCCEEDED]: 2,
  [JobStatus.FAILED]: 2,
};

/**
 * How far a job has got: each delivery (attempt) starts PENDING again, then RUNNING, and one of them ends it.
 * Rows loaded at different moments by different replicas may be published out of order; a subscriber keeps
 * only those that move forward, so it never sees a job go back.
 */
export function jobProgress(job: Pick<JobRow, 'attempt' | 'status'>): number {
  return job.attempt * 3 + STATUS_RANK[job.status];
}

export function isFinal(status: JobStatus): boolean {
  return status === JobStatus.SUCCEEDED || status === JobStatus.FAILED;
}
