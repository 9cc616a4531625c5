import type { BackupCompression, BackupMode, PolicyRunStatus, PruneRules } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { BackupStorageEntity } from './backup-storage.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { OrganizationEntity } from './organization.entity.js';

/**
 * Recurring backups of a set of instances (issue 13), run by the policy scheduler: `next_run_at` is the durable
 * due row every api replica claims (FOR UPDATE SKIP LOCKED), as a snapshot policy's is. `retention` holds
 * Proxmox's prune counts (keepLast … keepYearly; none positive keeps everything).
 */
@Entity('backup_schedules')
@Index('idx_backup_schedules_organization', ['organizationId', 'id'])
@Index('idx_backup_schedules_due', ['nextRunAt'], { where: 'enabled' })
export class BackupScheduleEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ type: 'varchar', length: 128 })
  schedule!: string;

  @Column({ type: 'varchar', length: 64 })
  timezone!: string;

  @Column({ type: 'varchar', length: 16 })
  mode!: BackupMode;

  @Column({ type: 'varchar', length: 16 })
  compression!: BackupCompression;

  /** Every run but the first of a chain incremental (the backups service picks the parent); false: all full. */
  @Column({ type: 'boolean', default: true })
  incremental!: boolean;

  @Column({ name: 'storage_id', type: 'uuid' })
  storageId!: string;

  @ManyToOne(() => BackupStorageEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'storage_id' })
  storage?: Relation<BackupStorageEntity>;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  notify!: string[];

  @Column({ type: 'jsonb', default: () => "'{}'" })
  retention!: PruneRules;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

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

/** Which instances a schedule backs up; a destroyed instance's row goes with it (ON DELETE CASCADE). */
@Entity('backup_schedule_instances')
@Index('idx_backup_schedule_instances_instance', ['instanceId'])
export class BackupScheduleInstanceEntity {
  @PrimaryColumn({ name: 'schedule_id', type: 'uuid' })
  scheduleId!: string;

  @ManyToOne(() => BackupScheduleEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'schedule_id' })
  schedule?: Relation<BackupScheduleEntity>;

  @PrimaryColumn({ name: 'instance_id', type: 'uuid' })
  instanceId!: string;

  @ManyToOne(() => InstanceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'instance_id' })
  instance?: Relation<InstanceEntity>;
}

/** What one occurrence did for one instance: the backup it started, or why it started none. */
export interface BackupScheduleRunResult {
  instanceId: string;
  status: PolicyRunStatus;
  backupId?: string;
  error?: string;
  /** The refusal's extensions.code (CONFLICT: busy). */
  code?: string;
}

/**
 * One occurrence of a backup schedule. UNIQUE (schedule_id, scheduled_at): an occurrence starts its backups once,
 * whatever the number of schedulers (a second insert of it inserts nothing).
 */
@Entity('backup_schedule_runs')
@Index('uq_backup_schedule_runs_occurrence', ['scheduleId', 'scheduledAt'], { unique: true })
export class BackupScheduleRunEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'schedule_id', type: 'uuid' })
  scheduleId!: string;

  @ManyToOne(() => BackupScheduleEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'schedule_id' })
  schedule?: Relation<BackupScheduleEntity>;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'scheduled_at', type: 'timestamptz' })
  scheduledAt!: Date;

  /** SUCCEEDED: every instance's backup started; SKIPPED: none, all busy; FAILED: one was refused; MISSED. */
  @Column({ type: 'varchar', length: 16 })
  status!: PolicyRunStatus;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  results!: BackupScheduleRunResult[];

  @Column({ type: 'integer', default: 1 })
  attempts!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
