import { SnapshotState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EnvironmentEntity } from './environment.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { OrganizationEntity } from './organization.entity.js';

/**
 * What a recovery point captured (its `configuration`, libvirt's `snapshot-dumpxml` in the portal's terms): the
 * instance's size and every disk it holds, whether memory was saved, and once COMPLETED whether the guest was
 * quiesced and the snapshot XML libvirt recorded (memory points only: a disk-only point is internal qcow2
 * snapshots that libvirt does not describe). Empty for a point taken before configurations were recorded.
 */
export interface InstanceSnapshotConfiguration {
  cpuCount?: number;
  memoryMiB?: number;
  memorySaved?: boolean;
  disks?: Array<{ volumeId: string; name: string; device: string; sizeGiB: number }>;
  quiesced?: boolean;
  libvirtXml?: string | null;
}

/**
 * An instance snapshot (the contract's InstanceSnapshot): every volume of an instance at one instant, optionally
 * with the guest's memory. Like a volume snapshot, the row goes once the hypervisor confirms the delete. The code
 * says "instance snapshot"; the product calls it a "recovery point" in user-visible messages and GraphQL
 * descriptions, and the first migration (RecoveryPoints1795327739303) keeps its landed name.
 */
@Entity('instance_snapshots')
@Index('idx_instance_snapshots_organization', ['organizationId', 'id'])
@Index('idx_instance_snapshots_instance', ['instanceId', 'id'])
export class InstanceSnapshotEntity {
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

  @Column({ name: 'instance_id', type: 'uuid' })
  instanceId!: string;

  @ManyToOne(() => InstanceEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'instance_id' })
  instance?: Relation<InstanceEntity>;

  /** Users give 1–63 characters; automatic names (<instance>_VS_<stamp>) may be longer. */
  @Column({ type: 'varchar', length: 160 })
  name!: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16 })
  state!: SnapshotState;

  /**
   * The instance's volumes when it was taken, in disk order (ROOT, then data disks by name): a revert needs
   * the same disks, and a delete names them.
   */
  @Column({ name: 'volume_ids', type: 'uuid', array: true })
  volumeIds!: string[];

  @Column({ name: 'with_memory', type: 'boolean', default: false })
  withMemory!: boolean;

  /** The guest's filesystems were frozen while it was taken (known once COMPLETED). */
  @Column({ type: 'boolean', default: false })
  quiesced!: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  configuration!: InstanceSnapshotConfiguration;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'last_job_id', type: 'uuid', nullable: true })
  lastJobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
