import type { EventType, EventTypeValue } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { EventEntity } from '../entities/event.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { NotificationOutboxRepository } from './notification-outbox.repository.js';

export interface NewEvent {
  organizationId: string | null;
  actorUserId: string | null;
  /** One of EventType's strings: a type not listed there does not compile. */
  type: EventTypeValue;
  resourceType: string;
  resourceId: string;
  message: string;
  details?: Record<string, unknown> | null;
}

export class EventRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Records an event; one of the notifiable types also gets its outbox rows (webhook deliveries, a mail) in the
   * same transaction, so a notification exists exactly when its event committed.
   */
  async record(event: NewEvent): Promise<EventEntity> {
    const saved = await this.manager.save(this.manager.create(EventEntity, { id: newId(), details: null, ...event }));
    await new NotificationOutboxRepository(this.manager).enqueue(saved);
    return saved;
  }

  /** One event of the scope's organizations, or null (another organization's event is not found). */
  findById(scope: ReadScope, id: string): Promise<EventEntity | null> {
    return applyScope(this.manager.createQueryBuilder(EventEntity, 'ev'), 'ev', scope)
      .andWhere('ev.id = :id', { id })
      .getOne();
  }

  list(
    scope: ReadScope,
    filter: { resourceId?: string | null; type?: EventType | null },
    page: PageRequest,
  ): Promise<Page<EventEntity>> {
    const qb = applyScope(this.manager.createQueryBuilder(EventEntity, 'ev'), 'ev', scope);
    if (filter.resourceId) qb.andWhere('ev.resource_id = :resourceId', { resourceId: filter.resourceId });
    if (filter.type) qb.andWhere('ev.type = :type', { type: filter.type });
    return paginate(qb, 'ev', page);
  }
}
