import { JobStatus } from '@snapdeck/domain';
import type { JobName, JobPayloads } from '@snapdeck/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One asynchronous operation, like CloudStack's async job. The queue may lose or repeat a message; this row
 * may not: the reconciler reads it to re-dispatch or fail work whose lease ran out.
 */
@Entity('jobs')
@Index('idx_jobs_organization', ['organizationId', 'id'])
// The storage audit reads the jobs that closed since its inventory was taken (mid-operation, never a finding).
@Index('idx_jobs_finished', ['finishedAt'], { where: 'finished_at IS NOT NULL' })
@Index('idx_jobs_open_lease', ['leaseExpiresAt'], { where: `status IN ('PENDING', 'RUNNING')` })
export class JobEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Null for platform work that belongs to no organization. */
  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  type!: JobName;

  @Column({ type: 'varchar', length: 16 })
  status!: JobStatus;

  @Column({ name: 'host_id', type: 'uuid', nullable: true })
  hostId!: string | null;

  @Column({ name: 'resource_type', type: 'varchar', length: 32 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'uuid' })
  resourceId!: string;

  /** What `type` is sent with (see JobOf for the payload of one job name). */
  @Column({ type: 'jsonb' })
  payload!: JobPayloads[JobName];

  @Column({ type: 'jsonb', nullable: true })
  result!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** Deliveries so far; 0 until first dispatched. */
  @Column({ type: 'integer', default: 0 })
  attempt!: number;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;

  /**
   * When the current attempt was handed to the transport; null from its claim until the send succeeded. A claimed
   * attempt that was never sent (the api died in between, or the send failed) is sent again under the same
   * attempt, so it costs no attempt, and its delivery id makes a duplicate add a no-op.
   */
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'created_by_user_id', type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}

/**
 * A job row whose name is known, with the payload of that name: what an applier receives. The row holds what
 * `JobRepository.create` was given for `type`, so narrowing on `type` (isJob) is all it takes.
 */
export type JobOf<N extends JobName> = Omit<JobEntity, 'type' | 'payload'> & { type: N; payload: JobPayloads[N] };

/** Narrows a job row to its name's payload type. */
export function isJob<N extends JobName>(job: JobEntity, name: N): job is JobEntity & JobOf<N> {
  return job.type === name;
}
