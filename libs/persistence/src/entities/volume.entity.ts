import { VolumeState, VolumeType } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EnvironmentEntity } from './environment.entity.js';
import { HostEntity } from './host.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { OrganizationEntity } from './organization.entity.js';

@Entity('volumes')
@Index('idx_volumes_organization', ['organizationId', 'id'])
@Index('idx_volumes_environment', ['environmentId', 'id'])
@Index('idx_volumes_instance', ['instanceId', 'id'])
@Index('idx_volumes_host', ['hostId'])
@Index('idx_volumes_source_snapshot', ['sourceSnapshotId'], { where: 'source_snapshot_id IS NOT NULL' })
@Index('idx_volumes_source_template', ['sourceTemplateId'], { where: 'source_template_id IS NOT NULL' })
export class VolumeEntity {
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

  /** The host whose primary storage holds the file; every operation on the volume runs there. */
  @Column({ name: 'host_id', type: 'uuid' })
  hostId!: string;

  @ManyToOne(() => HostEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'host_id' })
  host?: Relation<HostEntity>;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: VolumeType;

  @Column({ type: 'varchar', length: 16 })
  state!: VolumeState;

  @Column({ name: 'size_gib', type: 'integer' })
  sizeGiB!: number;

  /**
   * When a revert or an in-place restore last rewrote its contents (whether or not it succeeded): an incremental
   * backup chain begun before cannot be trusted, so the next backup is a full one.
   */
  @Column({ name: 'contents_replaced_at', type: 'timestamptz', nullable: true })
  contentsReplacedAt!: Date | null;

  /**
   * Lineage: the snapshot or template this volume was copied from. Plain ids, not foreign keys: a copy is
   * standalone once made, and its source may go. While the volume is CREATING they keep the source from being
   * deleted under the copy.
   */
  @Column({ name: 'source_snapshot_id', type: 'uuid', nullable: true })
  sourceSnapshotId!: string | null;

  @Column({ name: 'source_template_id', type: 'uuid', nullable: true })
  sourceTemplateId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
