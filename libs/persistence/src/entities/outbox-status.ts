/** Where one outbox row (a webhook delivery, a mail) stands. */
export enum OutboxStatus {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  /** Retried until the bound and never accepted. */
  FAILED = 'FAILED',
  /** Nothing to send it with (mail without SMTP_URL). */
  SKIPPED = 'SKIPPED',
}
