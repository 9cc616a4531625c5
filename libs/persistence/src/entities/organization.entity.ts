import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('organizations')
export class OrganizationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 63, unique: true })
  name!: string;

  /*
   * Limits (the contract's OrganizationLimits): the most the organization may hold at once; null for no limit.
   * Usage is not stored: it is counted from the rows it consists of (OrganizationRepository.usage).
   */

  /** Snapshots, an instance snapshot counting one per disk it holds. */
  @Column({ name: 'limit_snapshots', type: 'integer', nullable: true })
  limitSnapshots!: number | null;

  /** GiB of snapshots, each counting its volume's virtual size (as Cinder does). */
  @Column({ name: 'limit_snapshot_gib', type: 'integer', nullable: true })
  limitSnapshotGiB!: number | null;

  @Column({ name: 'limit_instances', type: 'integer', nullable: true })
  limitInstances!: number | null;

  /** GiB of volumes, by virtual size. */
  @Column({ name: 'limit_volume_gib', type: 'integer', nullable: true })
  limitVolumeGiB!: number | null;

  @Column({ name: 'limit_backups', type: 'integer', nullable: true })
  limitBackups!: number | null;

  @Column({ name: 'limit_backup_gib', type: 'integer', nullable: true })
  limitBackupGiB!: number | null;

  /** Notification settings: these addresses get a mail for each event of `notificationEvents` (empty: every one). */
  @Column({ name: 'notification_emails', type: 'text', array: true, default: () => "'{}'" })
  notificationEmails!: string[];

  @Column({ name: 'notification_events', type: 'text', array: true, default: () => "'{}'" })
  notificationEvents!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
