import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { OrganizationEntity } from './organization.entity.js';

/** An organization's endpoint for events out (createWebhook). */
@Entity('webhooks')
@Index('idx_webhooks_organization', ['organizationId', 'id'])
export class WebhookEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** The notifiable event types it wants; empty: all of them. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  events!: string[];

  /**
   * The HMAC key of its signatures. Kept as is (a signature needs the key itself, unlike a token's hash); the
   * api shows it once, at creation, and never reads it out again.
   */
  @Column({ name: 'signing_secret', type: 'varchar', length: 128 })
  signingSecret!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
