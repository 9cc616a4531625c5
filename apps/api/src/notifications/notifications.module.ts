import { Module } from '@nestjs/common';
import { NotificationMailer } from './notification-mailer.js';
import { NotificationWorker } from './notification-worker.service.js';
import { WebhooksResolver } from './webhooks.resolver.js';
import { WebhooksService } from './webhooks.service.js';

/** Events out: webhooks and their delivery log, notification settings, and the worker that drains the outboxes. */
@Module({ providers: [WebhooksResolver, WebhooksService, NotificationMailer, NotificationWorker] })
export class NotificationsModule {}
