import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { OutboxStatus, type WebhookDeliveryEntity, type WebhookEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

registerEnumType(OutboxStatus, {
  name: 'DeliveryStatus',
  description: 'Where a delivery stands.',
  valuesMap: {
    PENDING: { description: 'Not accepted yet: the next attempt is due at nextAttemptAt.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Given up: every attempt failed until the retry bound (NOTIFY_GIVE_UP_HOURS).' },
    SKIPPED: { description: 'Not sent: the webhook was disabled before its turn.' },
  },
});

@ObjectType('Webhook', {
  implements: () => [NodeModel],
  description: "An endpoint your organization's events are POSTed to, signed with its secret (shown once).",
})
export class WebhookModel implements NodeModel {
  @Field(() => ID, { description: "The webhook's id." })
  id!: string;

  @Field({ description: 'Where deliveries go.' })
  url!: string;

  @Field(() => [String], { description: 'The event types it receives; empty: all of them.' })
  events!: string[];

  @Field({ description: 'Whether deliveries are made.' })
  enabled!: boolean;

  @Field({ description: 'When it was made.' })
  createdAt!: Date;

  static from(row: WebhookEntity): WebhookModel {
    return Object.assign(new WebhookModel(), {
      id: row.id,
      url: row.url,
      events: row.events,
      enabled: row.enabled,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType('WebhookConnection', { description: 'One page of webhooks, newest first.' })
export class WebhookConnection extends Connection(WebhookModel, 'Webhook') {}

@ObjectType('WebhookDelivery', { description: 'One event sent (or being sent) to a webhook: the delivery log.' })
export class WebhookDeliveryModel {
  @Field(() => ID, { description: "The delivery's id." })
  id!: string;

  @Field({ description: 'The event type delivered, e.g. snapshot.completed.' })
  event!: string;

  @Field(() => ID, { description: "The event's id: the payload's id, the receiver's dedupe key." })
  eventId!: string;

  @Field(() => OutboxStatus, { description: 'PENDING until a 2xx answer (SUCCEEDED) or the retry bound (FAILED).' })
  status!: OutboxStatus;

  @Field(() => Int, { description: 'Attempts made so far.' })
  attempts!: number;

  @Field(() => Int, { nullable: true, description: "The last attempt's HTTP status; null: no answer." })
  responseStatus!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed; null once it succeeded.' })
  lastError!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due (PENDING only).' })
  nextAttemptAt!: Date | null;

  @Field({ description: 'When the event was recorded.' })
  createdAt!: Date;

  static from(row: WebhookDeliveryEntity): WebhookDeliveryModel {
    return Object.assign(new WebhookDeliveryModel(), {
      id: row.id,
      event: row.eventType,
      eventId: row.eventId,
      status: row.status,
      attempts: row.attempts,
      responseStatus: row.responseStatus,
      lastError: row.lastError,
      nextAttemptAt: row.status === OutboxStatus.PENDING ? row.nextAttemptAt : null,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType('WebhookDeliveryConnection', { description: "One page of a webhook's deliveries, newest first." })
export class WebhookDeliveryConnection extends Connection(WebhookDeliveryModel, 'WebhookDelivery') {}

@ObjectType('CreateWebhookPayload', { description: 'What createWebhook answers.' })
export class CreateWebhookPayload {
  @Field(() => WebhookModel, { description: 'The new webhook.' })
  webhook!: WebhookModel;

  @Field({
    description:
      'The signing secret: verify Snapdeck-Signature with it. Shown only here, once; keep it like a password.',
  })
  secret!: string;
}

@ObjectType('DeleteWebhookPayload', { description: 'What deleteWebhook answers.' })
export class DeleteWebhookPayload {
  @Field(() => WebhookModel, { description: 'The webhook as it was.' })
  webhook!: WebhookModel;
}
