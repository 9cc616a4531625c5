import { Inject, Injectable } from '@nestjs/common';
import { notFound, parseEmailAddresses, parseEventTypes } from '@snapdeck/domain';
import {
  Database,
  type OrganizationEntity,
  type Page,
  type PageRequest,
  type WebhookDeliveryEntity,
  type WebhookEntity,
} from '@snapdeck/persistence';
import { writeScope, type Principal } from '../auth/principal.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import type { CreateWebhookInput, UpdateNotificationSettingsInput } from './dto/webhook.inputs.js';
import { newSigningSecret } from './webhook-signature.js';
import { checkWebhookUrlInput } from './webhook-target.js';

/**
 * Webhooks and notification settings of the caller's organization (ORG_ADMIN; a platform administrator reaches
 * every organization's webhooks by id). Another organization's webhook is NOT_FOUND.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async create(principal: Principal, input: CreateWebhookInput): Promise<{ webhook: WebhookEntity; secret: string }> {
    const events = parseEventTypes(input.events, 'events');
    // Resolved and checked now, and again at every delivery (DNS may change).
    await checkWebhookUrlInput(input.url, this.config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES);
    const secret = newSigningSecret();
    const webhook = await this.db.transaction((tx) =>
      tx.webhooks.create({ organizationId: principal.organizationId, url: input.url, events, signingSecret: secret }),
    );
    return { webhook, secret };
  }

  async delete(principal: Principal, webhookId: string): Promise<WebhookEntity> {
    const removed = await this.db.transaction((tx) => tx.webhooks.remove(writeScope(principal), webhookId));
    if (!removed) throw notFound('Webhook', webhookId);
    return removed;
  }

  list(principal: Principal, page: PageRequest): Promise<Page<WebhookEntity>> {
    return this.db.repos.webhooks.list(writeScope(principal), page);
  }

  async deliveries(principal: Principal, webhookId: string, page: PageRequest): Promise<Page<WebhookDeliveryEntity>> {
    const scope = writeScope(principal);
    if (!(await this.db.repos.webhooks.findById(scope, webhookId))) throw notFound('Webhook', webhookId);
    return this.db.repos.webhookDeliveries.listOfWebhook(scope, webhookId, page);
  }

  async updateNotificationSettings(
    principal: Principal,
    input: UpdateNotificationSettingsInput,
  ): Promise<OrganizationEntity> {
    const emails = input.emails == null ? undefined : parseEmailAddresses(input.emails, 'emails');
    const events = input.events == null ? undefined : parseEventTypes(input.events, 'events');
    return this.db.transaction(async (tx) => {
      if (!(await tx.organizations.setNotificationSettings(principal.organizationId, { emails, events }))) {
        throw notFound('Organization', principal.organizationId);
      }
      return (await tx.organizations.findById(principal.organizationId))!;
    });
  }
}
