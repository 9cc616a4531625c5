import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { HostEntity } from './host.entity.js';

/** The five counts of an audit, as the contract names them. */
export interface StorageAuditCounts {
  orphanTags: number;
  missingSnapshots: number;
  missingVolumes: number;
  orphanFiles: number;
  damagedImages: number;
}

/**
 * One comparison of a host's disks (an INVENTORY job) with the database. Platform data: no organization.
 * At most one audit of a host is open (finished_at null) at a time: the partial unique index says so, which is
 * also what keeps two api replicas from auditing one host at once.
 */
@Entity('storage_audits')
@Index('idx_storage_audits_host', ['hostId', 'id'])
@Index('uq_storage_audits_host_open', ['hostId'], { unique: true, where: 'finished_at IS NULL' })
export class StorageAuditEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'host_id', type: 'uuid' })
  hostId!: string;

  @ManyToOne(() => HostEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'host_id' })
  host?: Relation<HostEntity>;

  /** The INVENTORY job (set in the transaction that opens the audit). */
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId!: string | null;

  /** The REPAIR_STORAGE follow-up, when there was something to remove. */
  @Column({ name: 'repair_job_id', type: 'uuid', nullable: true })
  repairJobId!: string | null;

  /** Repair asked for (repair: true, or a periodic audit with STORAGE_AUDIT_AUTO_REPAIR). */
  @Column({ type: 'boolean', default: false })
  repaired!: boolean;

  /** STORAGE_AUDIT_ORPHAN_GRACE_MINUTES when the audit was asked for: the applier has no config of its own. */
  @Column({ name: 'orphan_grace_minutes', type: 'integer' })
  orphanGraceMinutes!: number;

  @Column({ name: 'orphan_tags', type: 'integer', default: 0 })
  orphanTags!: number;

  @Column({ name: 'missing_snapshots', type: 'integer', default: 0 })
  missingSnapshots!: number;

  @Column({ name: 'missing_volumes', type: 'integer', default: 0 })
  missingVolumes!: number;

  @Column({ name: 'orphan_files', type: 'integer', default: 0 })
  orphanFiles!: number;

  @Column({ name: 'damaged_images', type: 'integer', default: 0 })
  damagedImages!: number;

  /** Each finding (kind, ids, reason, severity, repair), no host paths; null until the inventory is compared. */
  @Column({ type: 'jsonb', nullable: true })
  findings!: Array<Record<string, unknown>> | null;

  /** What REPAIR_STORAGE removed and failed to remove: { removed: string[], failed: [{ target, message }] }. */
  @Column({ name: 'repair_report', type: 'jsonb', nullable: true })
  repairReport!: Record<string, unknown> | null;

  /** The inventory's takenAt: when the agent began listing. */
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  /** Set once the inventory (and its repair, if any) is applied or failed: the audit is closed. */
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
