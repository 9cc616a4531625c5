import type { PolicyRunState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { SnapshotPolicyEntity } from './snapshot-policy.entity.js';

/**
 * One occurrence of a policy. UNIQUE (policy_id, scheduled_at) is what makes an occurrence give at most one
 * snapshot with any number of schedulers: a second insert of the same occurrence inserts nothing.
 */
@Entity('policy_runs')
@Index('uq_policy_runs_occurrence', ['policyId', 'scheduledAt'], { unique: true })
@Index('idx_policy_runs_snapshot', ['snapshotId'])
export class PolicyRunEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'policy_id', type: 'uuid' })
  policyId!: string;

  @ManyToOne(() => SnapshotPolicyEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'policy_id' })
  policy?: Relation<SnapshotPolicyEntity>;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'scheduled_at', type: 'timestamptz' })
  scheduledAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  state!: PolicyRunState;

  /** The snapshot of the latest attempt (no foreign key: retention deletes snapshots, the run stays). */
  @Column({ name: 'snapshot_id', type: 'uuid', nullable: true })
  snapshotId!: string | null;

  @Column({ type: 'integer', default: 1 })
  attempts!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
