import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { CreateWebhookInput, DeleteWebhookInput, UpdateNotificationSettingsInput } from './dto/webhook.inputs.js';
import { UpdateNotificationSettingsPayload } from './models/notification-settings.payload.js';
import {
  CreateWebhookPayload,
  DeleteWebhookPayload,
  WebhookConnection,
  WebhookDeliveryConnection,
  WebhookDeliveryModel,
  WebhookModel,
} from './models/webhook.model.js';
import { WebhooksService } from './webhooks.service.js';

@Resolver(() => WebhookModel)
export class WebhooksResolver {
  constructor(private readonly service: WebhooksService) {}

  @Mutation(() => CreateWebhookPayload, {
    description:
      "A webhook of the caller's organization (ORG_ADMIN): the chosen events are POSTed to its url, signed " +
      '(Snapdeck-Signature) with the secret answered here once.',
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async createWebhook(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The url and the event types.' }) input: CreateWebhookInput,
  ): Promise<CreateWebhookPayload> {
    const { webhook, secret } = await this.service.create(principal, input);
    return { webhook: WebhookModel.from(webhook), secret };
  }

  @Mutation(() => DeleteWebhookPayload, {
    description: 'Deletes a webhook (ORG_ADMIN): no more deliveries; its pending ones and its log go with it.',
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async deleteWebhook(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The webhook to delete.' }) input: DeleteWebhookInput,
  ): Promise<DeleteWebhookPayload> {
    return { webhook: WebhookModel.from(await this.service.delete(principal, input.webhookId)) };
  }

  @Query(() => WebhookConnection, { description: "The organization's webhooks, newest first (ORG_ADMIN)." })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async webhooks(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<WebhookConnection> {
    return toConnection(await this.service.list(principal, page), WebhookModel.from);
  }

  @Query(() => WebhookDeliveryConnection, {
    description: "A webhook's delivery log, newest first: status, attempts, the last answer (ORG_ADMIN).",
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async webhookDeliveries(
    @CurrentPrincipal() principal: Principal,
    @Args('webhookId', { type: () => ID, description: 'The webhook.' }, ParseIdPipe) webhookId: string,
    @Args() page: PageArgs,
  ): Promise<WebhookDeliveryConnection> {
    return toConnection(await this.service.deliveries(principal, webhookId, page), WebhookDeliveryModel.from);
  }

  @Mutation(() => UpdateNotificationSettingsPayload, {
    description:
      "Who is mailed for which of the caller's organization's events (ORG_ADMIN); a field left out keeps its value.",
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async updateNotificationSettings(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The addresses and the event types.' }) input: UpdateNotificationSettingsInput,
  ): Promise<UpdateNotificationSettingsPayload> {
    return { organization: OrganizationModel.from(await this.service.updateNotificationSettings(principal, input)) };
  }
}
