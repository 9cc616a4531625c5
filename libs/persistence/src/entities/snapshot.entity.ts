import { SnapshotState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EnvironmentEntity } from './environment.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { OrganizationEntity } from './organization.entity.js';
import { SnapshotPolicyEntity } from './snapshot-policy.entity.js';
import { VolumeEntity } from './volume.entity.js';

/**
 * A volume snapshot. The row is removed once the disk confirms the delete, so every row names a snapshot
 * that exists on disk or is on its way there (IN_PROGRESS) or away (DESTROYING).
 */
@Entity('snapshots')
@Index('idx_snapshots_organization', ['organizationId', 'id'])
@Index('idx_snapshots_environment', ['environmentId', 'id'])
@Index('idx_snapshots_instance', ['instanceId', 'id'])
@Index('idx_snapshots_volume', ['volumeId', 'id'])
@Index('idx_snapshots_policy', ['policyId', 'id'])
@Index('idx_snapshots_pending_restore', ['pendingRestoreBackupId'], { where: 'pending_restore_backup_id IS NOT NULL' })
export class SnapshotEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ name: 'environment_id', type: 'uuid' })
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'environment_id' })
  environment?: Relation<EnvironmentEntity>;

  @Column({ name: 'volume_id', type: 'uuid' })
  volumeId!: string;

  @ManyToOne(() => VolumeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'volume_id' })
  volume?: Relation<VolumeEntity>;

  /** The instance the volume belonged to when the snapshot was taken. */
  @Column({ name: 'instance_id', type: 'uuid', nullable: true })
  instanceId!: string | null;

  @ManyToOne(() => InstanceEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'instance_id' })
  instance?: Relation<InstanceEntity>;

  /** Users give 1–63 characters; automatic names (instance_volume_stamp) may be longer. */
  @Column({ type: 'varchar', length: 160 })
  name!: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16 })
  state!: SnapshotState;

  /** The guest's filesystems were frozen while it was taken (known once COMPLETED). */
  @Column({ type: 'boolean', default: false })
  quiesced!: boolean;

  /** The last failure, readable by the user: a failed create, or a delete the disk refused. */
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The policy that took it (null: taken by hand, or its policy was deleted since). */
  @Column({ name: 'policy_id', type: 'uuid', nullable: true })
  policyId!: string | null;

  @ManyToOne(() => SnapshotPolicyEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'policy_id' })
  policy?: Relation<SnapshotPolicyEntity>;

  /**
   * A safety snapshot taken before restoring this backup over the snapshot's instance, while that restore waits for
   * it: the last of the instance's safety snapshots to settle starts the restore (or gives it up) and clears it on
   * all of them. The snapshot itself is an ordinary one and stays, whatever the restore does.
   */
  @Column({ name: 'pending_restore_backup_id', type: 'uuid', nullable: true })
  pendingRestoreBackupId!: string | null;

  /** Protected: never pruned by a policy, not counted toward its keep, and deleteSnapshot refuses it. */
  @Column({ type: 'boolean', default: false })
  protected!: boolean;

  /** The job of the latest operation on this snapshot. */
  @Column({ name: 'last_job_id', type: 'uuid', nullable: true })
  lastJobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
