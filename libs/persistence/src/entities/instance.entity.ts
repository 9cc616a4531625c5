import { InstanceState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EnvironmentEntity } from './environment.entity.js';
import { HostEntity } from './host.entity.js';
import { OrganizationEntity } from './organization.entity.js';

@Entity('instances')
@Index('idx_instances_organization', ['organizationId', 'id'])
@Index('idx_instances_environment', ['environmentId', 'id'])
@Index('uq_instances_environment_name', ['environmentId', 'name'], { unique: true })
export class InstanceEntity {
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

  @Column({ name: 'host_id', type: 'uuid', nullable: true })
  hostId!: string | null;

  @ManyToOne(() => HostEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'host_id' })
  host?: Relation<HostEntity>;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: InstanceState;

  /** vCPUs of its domain (InstanceSize). */
  @Column({ name: 'cpu_count', type: 'integer', default: 1 })
  cpuCount!: number;

  /** Memory of its domain, MiB. */
  @Column({ name: 'memory_mib', type: 'integer', default: 512 })
  memoryMiB!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
