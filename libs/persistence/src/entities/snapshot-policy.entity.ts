import type { PolicyRunStatus } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { OrganizationEntity } from './organization.entity.js';
import { VolumeEntity } from './volume.entity.js';

/**
 * A recurring snapshot of one volume. `next_run_at` is the durable due row the schedulers of every api replica
 * claim (FOR UPDATE SKIP LOCKED); the partial index keeps "what is due next" one index probe however many
 * policies there are. The policy goes with its volume (ON DELETE CASCADE).
 */
@Entity('snapshot_policies')
@Index('idx_snapshot_policies_organization', ['organizationId', 'id'])
@Index('idx_snapshot_policies_volume', ['volumeId', 'id'])
@Index('idx_snapshot_policies_due', ['nextRunAt'], { where: 'enabled' })
export class SnapshotPolicyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ name: 'volume_id', type: 'uuid' })
  volumeId!: string;

  @ManyToOne(() => VolumeEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'volume_id' })
  volume?: Relation<VolumeEntity>;

  /** A cron expression of 5 or 6 fields, or @hourly/@daily/@weekly/@monthly. */
  @Column({ type: 'varchar', length: 128 })
  schedule!: string;

  /** An IANA time zone name. */
  @Column({ type: 'varchar', length: 64 })
  timezone!: string;

  @Column({ type: 'integer' })
  keep!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** E-mail addresses told when a run fails. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  notify!: string[];

  /** When the scheduler acts next: the next occurrence, or a retry of `retryOf` before it. */
  @Column({ name: 'next_run_at', type: 'timestamptz' })
  nextRunAt!: Date;

  /** The occurrence a retry at next_run_at is for; null when next_run_at is itself an occurrence. */
  @Column({ name: 'retry_of', type: 'timestamptz', nullable: true })
  retryOf!: Date | null;

  @Column({ name: 'last_run_at', type: 'timestamptz', nullable: true })
  lastRunAt!: Date | null;

  @Column({ name: 'last_status', type: 'varchar', length: 16, nullable: true })
  lastStatus!: PolicyRunStatus | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
