import type { NotificationPayload } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { OutboxStatus } from './outbox-status.js';

/** The outbox of e-mail: one message per event to every address that asked for it. */
@Entity('notification_emails')
@Index('idx_notification_emails_due', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
@Index('idx_notification_emails_organization', ['organizationId', 'id'])
export class NotificationEmailEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'event_id', type: 'uuid', unique: true })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  @Column({ type: 'text', array: true })
  recipients!: string[];

  @Column({ type: 'jsonb' })
  payload!: NotificationPayload;

  @Column({ type: 'varchar', length: 16 })
  status!: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
