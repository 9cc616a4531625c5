import type { EntityManager } from 'typeorm';
import { NotificationEmailEntity } from '../entities/notification-email.entity.js';
import { OutboxStatus } from '../entities/outbox-status.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { returnedRows } from '../sql.js';

/** The two outboxes a worker drains. */
export const OUTBOX_TABLES = {
  webhook: { table: 'webhook_deliveries', entity: WebhookDeliveryEntity },
  email: { table: 'notification_emails', entity: NotificationEmailEntity },
} as const;
export type OutboxKind = keyof typeof OUTBOX_TABLES;
type RowOf<K extends OutboxKind> = InstanceType<(typeof OUTBOX_TABLES)[K]['entity']>;

/** A claimed row: its `attempts` (already counted) is the fencing token of the attempt. */
export type Claimed<K extends OutboxKind> = RowOf<K>;

/** How an attempt ended. */
export type AttemptOutcome =
  | { kind: 'succeeded'; responseStatus?: number | null }
  | { kind: 'retry'; at: Date; error: string; responseStatus?: number | null }
  | { kind: 'failed'; error: string; responseStatus?: number | null }
  | { kind: 'skipped'; error: string };

const STATUS_OF = {
  succeeded: OutboxStatus.SUCCEEDED,
  retry: OutboxStatus.PENDING,
  failed: OutboxStatus.FAILED,
  skipped: OutboxStatus.SKIPPED,
} as const;

/**
 * Claims and settles outbox rows. A claim is one statement: the due PENDING rows are locked with
 * `FOR UPDATE SKIP LOCKED` (another replica's claim passes them by), counted one attempt, and leased (their
 * due time moved past the attempt's bound) before commit, so the send itself happens outside any transaction
 * and no other worker takes the row while it runs. A worker that dies mid-send leaves the lease to run out:
 * the row is sent again (at least once).
 */
export class OutboxClaimRepository {
  constructor(private readonly manager: EntityManager) {}

  async claimDue<K extends OutboxKind>(kind: K, limit: number, leaseMs: number): Promise<Array<Claimed<K>>> {
    const { table, entity } = OUTBOX_TABLES[kind];
    const rows = returnedRows<{ id: string }>(
      await this.manager.query(
        `UPDATE ${table} SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE id IN (SELECT id FROM ${table} WHERE status = 'PENDING' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
        [limit, leaseMs],
      ),
    );
    if (rows.length === 0) return [];
    const found = await this.manager
      .createQueryBuilder(entity, 'o')
      .where('o.id IN (:...ids)', { ids: rows.map((r) => r.id) })
      .orderBy('o.next_attempt_at')
      .getMany();
    return found as Array<Claimed<K>>;
  }

  /**
   * Records the end of attempt `attempts` of a row; false when the row moved on meanwhile (its lease ran out and
   * another attempt was claimed, or it was deleted): that attempt's word is the one that counts.
   */
  async settle(kind: OutboxKind, id: string, attempts: number, outcome: AttemptOutcome): Promise<boolean> {
    const { table } = OUTBOX_TABLES[kind];
    const responseStatus = 'responseStatus' in outcome ? (outcome.responseStatus ?? null) : null;
    const error = outcome.kind === 'succeeded' ? null : outcome.error;
    const next = outcome.kind === 'retry' ? outcome.at : null;
    const finished = outcome.kind === 'retry' ? null : new Date();
    const withResponse = kind === 'webhook' ? ', response_status = $7' : '';
    const params: unknown[] = [id, attempts, STATUS_OF[outcome.kind], error?.slice(0, 2000) ?? null, next, finished];
    if (kind === 'webhook') params.push(responseStatus);
    const rows = returnedRows<{ id: string }>(
      await this.manager.query(
        `UPDATE ${table} SET status = $3, last_error = $4, next_attempt_at = $5, finished_at = $6${withResponse}
          WHERE id = $1 AND attempts = $2 AND status = 'PENDING' RETURNING id`,
        params,
      ),
    );
    return rows.length === 1;
  }
}
