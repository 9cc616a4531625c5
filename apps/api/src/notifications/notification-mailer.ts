import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { NotificationPayload } from '@snapdeck/domain';
import nodemailer, { type Transporter } from 'nodemailer';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { renderNotificationEmail } from './notification-email.js';

/** Sends notification mail through SMTP_URL with nodemailer; `configured` is false when SMTP_URL is unset. */
@Injectable()
export class NotificationMailer implements OnApplicationShutdown {
  private readonly transport: Transporter | null;

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    const url = config.SMTP_URL?.trim();
    this.transport = url
      ? nodemailer.createTransport(url, {
          from: config.NOTIFY_FROM,
        })
      : null;
  }

  get configured(): boolean {
    return this.transport !== null;
  }

  /** Throws when the server refuses or cannot be reached: the worker retries. */
  async send(recipients: readonly string[], payload: NotificationPayload): Promise<void> {
    if (!this.transport) throw new Error('SMTP_URL is not set');
    const { subject, text } = renderNotificationEmail(payload);
    await this.transport.sendMail({
      from: this.config.NOTIFY_FROM,
      to: [...recipients],
      subject,
      text,
      headers: { 'X-Snapdeck-Event-Id': payload.id, 'X-Snapdeck-Event-Type': payload.type },
    });
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
