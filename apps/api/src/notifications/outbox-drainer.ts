import { nextAttemptAt, type NotificationPayload, type RetryPolicy } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  type AttemptOutcome,
  type Claimed,
  type Database,
  type OutboxKind,
} from '@snapdeck/persistence';
import { postJson, type SendResult } from './webhook-sender.js';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.js';
import { checkWebhookTarget, RefusedTarget } from './webhook-target.js';

export interface DrainerOptions {
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  retry: Readonly<RetryPolicy>;
  /** Rows one claim takes (sent concurrently). */
  batchSize: number;
}

/** What sends mail; null when SMTP_URL is unset (mail rows are then SKIPPED). */
export interface MailSender {
  send(recipients: readonly string[], payload: NotificationPayload): Promise<void>;
}

export type AttemptOutcomeKind = AttemptOutcome['kind'];
export type OnAttempt = (channel: OutboxKind, outcome: AttemptOutcomeKind) => void;

/**
 * Drains the two outboxes once: claims due rows (a claim commits before any send: see OutboxClaimRepository),
 * sends each, and settles it — SUCCEEDED on a 2xx (or an accepted mail), PENDING again with a later due time on
 * a failure, FAILED once the retry bound is passed. Any number of drainers may run on one database.
 */
export class OutboxDrainer {
  constructor(
    private readonly db: Database,
    private readonly options: DrainerOptions,
    private readonly mail: MailSender | null,
    private readonly onAttempt: OnAttempt = () => undefined,
    private readonly random: () => number = Math.random,
  ) {}

  /** One pass over both outboxes until neither has a due row; returns how many attempts it made. */
  async drain(): Promise<number> {
    let attempts = 0;
    for (;;) {
      const made = (await this.drainWebhooks()) + (await this.drainEmails());
      attempts += made;
      if (made === 0) return attempts;
    }
  }

  /** The lease of a claimed row: longer than any attempt can take, so no other drainer takes it meanwhile. */
  private get leaseMs(): number {
    return this.options.timeoutMs + 30_000;
  }

  async drainWebhooks(): Promise<number> {
    const rows = await this.db.repos.outbox.claimDue('webhook', this.options.batchSize, this.leaseMs);
    await Promise.all(rows.map((row) => this.settle('webhook', row, () => this.deliver(row))));
    return rows.length;
  }

  async drainEmails(): Promise<number> {
    const rows = await this.db.repos.outbox.claimDue('email', this.options.batchSize, this.leaseMs);
    await Promise.all(rows.map((row) => this.settle('email', row, () => this.sendMail(row))));
    return rows.length;
  }

  private async settle<K extends OutboxKind>(
    kind: K,
    row: Claimed<K>,
    attempt: () => Promise<
      { ok: true; status?: number } | { ok: false; error: string; status?: number } | { skip: string }
    >,
  ): Promise<void> {
    let outcome: AttemptOutcome;
    try {
      const result = await attempt();
      if ('skip' in result) outcome = { kind: 'skipped', error: result.skip };
      else if (result.ok) outcome = { kind: 'succeeded', responseStatus: result.status ?? null };
      else outcome = this.failure(row, result.error, result.status ?? null);
    } catch (error) {
      outcome = this.failure(row, (error as Error).message, null);
    }
    const counted = await this.db.repos.outbox.settle(kind, row.id, row.attempts, outcome);
    if (counted) this.onAttempt(kind, outcome.kind);
  }

  private failure(
    row: { createdAt: Date; attempts: number },
    error: string,
    responseStatus: number | null,
  ): AttemptOutcome {
    const at = nextAttemptAt(row.createdAt, new Date(), row.attempts, this.options.retry, this.random());
    return at ? { kind: 'retry', at, error, responseStatus } : { kind: 'failed', error, responseStatus };
  }

  private async deliver(row: Claimed<'webhook'>) {
    const webhook = await this.db.repos.webhooks.findById(ALL_ORGANIZATIONS, row.webhookId);
    if (!webhook || !webhook.enabled) return { skip: 'the webhook is disabled' };
    let result: SendResult;
    try {
      // Checked again at every attempt: the name's addresses may have changed since creation.
      const target = await checkWebhookTarget(webhook.url, this.options.allowPrivateAddresses);
      const body = JSON.stringify(row.payload);
      const signature = signatureHeader(webhook.signingSecret, body, Math.floor(Date.now() / 1000));
      result = await postJson(
        target,
        body,
        { [SIGNATURE_HEADER]: signature, 'Snapdeck-Event-Id': row.eventId, 'Snapdeck-Event-Type': row.eventType },
        this.options.timeoutMs,
      );
    } catch (error) {
      if (error instanceof RefusedTarget) return { ok: false as const, error: `url ${error.message}` };
      throw error;
    }
    if (!result.answered) return { ok: false as const, error: result.error };
    if (result.status >= 200 && result.status < 300) return { ok: true as const, status: result.status };
    const error =
      result.status >= 300 && result.status < 400
        ? `answered ${result.status} (a redirect: never followed)`
        : `answered ${result.status}`;
    return { ok: false as const, error, status: result.status };
  }

  private async sendMail(row: Claimed<'email'>) {
    if (!this.mail) return { skip: 'SMTP_URL is not set' };
    await this.mail.send(row.recipients, row.payload);
    return { ok: true as const };
  }
}
