import type { EntityManager } from 'typeorm';
import { WebhookEntity } from '../entities/webhook.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { returnedRows } from '../sql.js';

export interface NewWebhook {
  organizationId: string;
  url: string;
  events: string[];
  signingSecret: string;
}

export class WebhookRepository {
  constructor(private readonly manager: EntityManager) {}

  create(webhook: NewWebhook): Promise<WebhookEntity> {
    return this.manager.save(this.manager.create(WebhookEntity, { id: newId(), enabled: true, ...webhook }));
  }

  findById(scope: ReadScope, id: string): Promise<WebhookEntity | null> {
    return applyScope(this.manager.createQueryBuilder(WebhookEntity, 'w'), 'w', scope)
      .andWhere('w.id = :id', { id })
      .getOne();
  }

  list(scope: ReadScope, page: PageRequest): Promise<Page<WebhookEntity>> {
    return paginate(applyScope(this.manager.createQueryBuilder(WebhookEntity, 'w'), 'w', scope), 'w', page);
  }

  /** Removes the webhook (its deliveries go with it, ON DELETE CASCADE); the removed row, or null. */
  async remove(scope: ReadScope, id: string): Promise<WebhookEntity | null> {
    const found = await this.findById(scope, id);
    if (!found) return null;
    const removed = returnedRows<{ id: string }>(
      await this.manager.query('DELETE FROM webhooks WHERE id = $1 RETURNING id', [id]),
    );
    return removed.length === 1 ? found : null;
  }

  /** The organization's enabled webhooks that want this event type (an empty list wants every one). */
  subscribedTo(organizationId: string, type: string): Promise<WebhookEntity[]> {
    return this.manager
      .createQueryBuilder(WebhookEntity, 'w')
      .where('w.organization_id = :organizationId', { organizationId })
      .andWhere('w.enabled')
      .andWhere('(cardinality(w.events) = 0 OR :type = ANY(w.events))', { type })
      .orderBy('w.id')
      .getMany();
  }
}
