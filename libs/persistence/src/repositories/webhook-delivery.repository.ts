import type { EntityManager } from 'typeorm';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';

/** The delivery log of webhooks, as webhookDeliveries shows it. */
export class WebhookDeliveryRepository {
  constructor(private readonly manager: EntityManager) {}

  /** One webhook's deliveries, newest first; the caller checked the webhook is in scope. */
  listOfWebhook(scope: ReadScope, webhookId: string, page: PageRequest): Promise<Page<WebhookDeliveryEntity>> {
    const qb = applyScope(this.manager.createQueryBuilder(WebhookDeliveryEntity, 'd'), 'd', scope).andWhere(
      'd.webhook_id = :webhookId',
      { webhookId },
    );
    return paginate(qb, 'd', page);
  }
}
