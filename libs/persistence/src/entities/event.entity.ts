import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** The audit trail: who did what to which resource, and how it ended. */
@Entity('events')
@Index('idx_events_organization', ['organizationId', 'id'])
@Index('idx_events_resource', ['resourceId', 'id'])
export class EventEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ name: 'actor_user_id', type: 'uuid', nullable: true })
  actorUserId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 32 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'uuid' })
  resourceId!: string;

  @Column({ type: 'text' })
  message!: string;

  @Column({ type: 'jsonb', nullable: true })
  details!: Record<string, unknown> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
