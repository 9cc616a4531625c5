import type { BackupCompression, BackupMode, BackupState, VolumeType } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { BackupStorageEntity } from './backup-storage.entity.js';
import { BackupScheduleEntity } from './backup-schedule.entity.js';
import { EnvironmentEntity } from './environment.entity.js';
import { HostEntity } from './host.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { OrganizationEntity } from './organization.entity.js';

/** bigint columns come back from pg as strings; byte counts stay far below 2^53. */
const BIGINT = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** One disk of the instance as the backup holds it: the configuration at backup time, then the manifest's facts. */
export interface BackupVolumeConfiguration {
  volumeId: string;
  name: string;
  type: VolumeType;
  sizeGiB: number;
  /** From the manifest, once READY. */
  file?: string;
  sha256?: string;
  virtualSizeBytes?: number;
  sizeBytes?: number;
  backingFile?: string | null;
}

/** `Backup.configuration`: what a restore rebuilds, readable after the instance is gone ("Show configuration"). */
export interface BackupConfiguration {
  /** cpuCount and memoryMiB: absent in a backup taken before instance sizes (a restore uses the default). */
  instance: { id: string; name: string; state: string; cpuCount?: number; memoryMiB?: number };
  host: { id: string | null; name: string | null };
  volumes: BackupVolumeConfiguration[];
  /** From the manifest, once READY. */
  instanceWasRunning?: boolean;
  quiesced?: boolean;
  startedAt?: string;
  completedAt?: string;
  guestPausedMs?: number | null;
}

/**
 * A backup of every disk of an instance on a backup storage (issue 13). The instance may be destroyed later: the
 * row keeps its name and configuration (instance_id goes NULL), so it can still be restored into a new instance.
 * An incremental names its parent, which cannot be deleted while it has children (RESTRICT, and the service says
 * which ones).
 */
@Entity('backups')
@Index('idx_backups_organization', ['organizationId', 'id'])
@Index('idx_backups_instance', ['instanceId', 'id'])
@Index('idx_backups_environment', ['environmentId', 'id'])
@Index('idx_backups_storage', ['storageId', 'id'])
@Index('idx_backups_parent', ['parentId'])
@Index('idx_backups_schedule', ['scheduleId', 'instanceId'])
export class BackupEntity {
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

  @Column({ name: 'instance_id', type: 'uuid', nullable: true })
  instanceId!: string | null;

  @ManyToOne(() => InstanceEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'instance_id' })
  instance?: Relation<InstanceEntity>;

  @Column({ name: 'instance_name', type: 'varchar', length: 63 })
  instanceName!: string;

  /** The host that wrote it (its agent runs the backup job). */
  @Column({ name: 'host_id', type: 'uuid', nullable: true })
  hostId!: string | null;

  @ManyToOne(() => HostEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'host_id' })
  host?: Relation<HostEntity>;

  @Column({ name: 'storage_id', type: 'uuid' })
  storageId!: string;

  @ManyToOne(() => BackupStorageEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'storage_id' })
  storage?: Relation<BackupStorageEntity>;

  /** Automatic: <instance>_BK_<yyyyMMddHHmmss>. */
  @Column({ type: 'varchar', length: 160 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  mode!: BackupMode;

  @Column({ type: 'varchar', length: 16 })
  compression!: BackupCompression;

  @Column({ type: 'boolean', default: false })
  incremental!: boolean;

  /** Its place in its chain: 1 for a full backup, its parent's plus one for an incremental. */
  @Column({ name: 'chain_length', type: 'integer', default: 1 })
  chainLength!: number;

  /** Why an incremental that was asked for was written as a full backup (null otherwise). */
  @Column({ name: 'full_reason', type: 'varchar', length: 200, nullable: true })
  fullReason!: string | null;

  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId!: string | null;

  @ManyToOne(() => BackupEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id' })
  parent?: Relation<BackupEntity>;

  @Column({ type: 'varchar', length: 16 })
  state!: BackupState;

  /** Bytes its folder occupies on its own (not its parent's); known once READY. */
  @Column({ name: 'size_bytes', type: 'bigint', nullable: true, transformer: BIGINT })
  sizeBytes!: number | null;

  @Column({ type: 'jsonb' })
  configuration!: BackupConfiguration;

  /** E-mail addresses told when it completes or fails (and when a restore of it does). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  notify!: string[];

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The backup schedule that took it (null: taken by hand, or its schedule was deleted); only it prunes it. */
  @Column({ name: 'schedule_id', type: 'uuid', nullable: true })
  scheduleId!: string | null;

  @ManyToOne(() => BackupScheduleEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'schedule_id' })
  schedule?: Relation<BackupScheduleEntity>;

  /** The job of the latest operation on it (create, delete). */
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
