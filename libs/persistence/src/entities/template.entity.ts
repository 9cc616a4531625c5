import { TemplateState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { OrganizationEntity } from './organization.entity.js';

/**
 * A golden image on secondary storage (`templates/<id>.qcow2`): made from a ROOT snapshot or registered by a
 * platform administrator. Private to its organization unless public.
 */
@Entity('templates')
@Index('idx_templates_organization', ['organizationId', 'id'])
@Index('idx_templates_public', ['id'], { where: 'public' })
export class TemplateEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 16 })
  state!: TemplateState;

  @Column({ type: 'boolean', default: false })
  public!: boolean;

  /** Lineage only (no foreign key): the template is standalone and outlives its snapshot. */
  @Column({ name: 'source_snapshot_id', type: 'uuid', nullable: true })
  sourceSnapshotId!: string | null;

  /** Virtual size of the image, known once it is written. */
  @Column({ name: 'virtual_size_bytes', type: 'bigint', nullable: true })
  virtualSizeBytes!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'last_job_id', type: 'uuid', nullable: true })
  lastJobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
