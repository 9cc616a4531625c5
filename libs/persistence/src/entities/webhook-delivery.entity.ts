import type { NotificationPayload } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { OutboxStatus } from './outbox-status.js';
import { WebhookEntity } from './webhook.entity.js';

/**
 * The outbox of webhooks and their delivery log in one: written in the transaction that recorded the event, sent
 * by the delivery worker, kept with how it ended. One row per (webhook, event).
 */
@Entity('webhook_deliveries')
@Index('uq_webhook_deliveries_webhook_event', ['webhookId', 'eventId'], { unique: true })
@Index('idx_webhook_deliveries_webhook', ['webhookId', 'id'])
// The worker's poll: only PENDING rows, by due time.
@Index('idx_webhook_deliveries_due', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
export class WebhookDeliveryEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId!: string;

  /** Deleting a webhook drops its pending deliveries and its log with it. */
  @ManyToOne(() => WebhookEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: Relation<WebhookEntity>;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  /** The body, frozen when the event was recorded (names of a resource deleted since stay readable). */
  @Column({ type: 'jsonb' })
  payload!: NotificationPayload;

  @Column({ type: 'varchar', length: 16 })
  status!: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** When a worker may take it (again); null once it is SUCCEEDED or FAILED. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
