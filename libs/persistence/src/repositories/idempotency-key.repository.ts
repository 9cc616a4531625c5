import type { EntityManager } from 'typeorm';
import { IdempotencyKeyEntity, type IdempotentResult } from '../entities/idempotency-key.entity.js';

export interface IdempotencyKeyClaim {
  callerId: string;
  key: string;
  field: string;
  fingerprint: string;
}

export class IdempotencyKeyRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Takes the key for this transaction: true when it was free (or its row older than `liveSince`, which is
   * taken over). A concurrent transaction holding the same key makes this statement wait for it to end (the
   * primary key's uniqueness check), so of parallel requests exactly one does the work; false afterwards.
   */
  async claim(claim: IdempotencyKeyClaim, liveSince: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO idempotency_keys (caller_id, key, field, fingerprint, result)
       VALUES ($1, $2, $3, $4, '{"entities":[]}')
       ON CONFLICT (caller_id, key) DO UPDATE
         SET field = EXCLUDED.field, fingerprint = EXCLUDED.fingerprint, result = EXCLUDED.result, created_at = now()
         WHERE idempotency_keys.created_at < $5
       RETURNING caller_id`,
      [claim.callerId, claim.key, claim.field, claim.fingerprint, liveSince],
    );
    return rows.length === 1;
  }

  async recordResult(callerId: string, key: string, result: IdempotentResult): Promise<void> {
    await this.manager.update(IdempotencyKeyEntity, { callerId, key }, { result });
  }

  /** The caller's key if it was used since `liveSince`. */
  async findLive(callerId: string, key: string, liveSince: Date): Promise<IdempotencyKeyEntity | null> {
    return this.manager
      .createQueryBuilder(IdempotencyKeyEntity, 'k')
      .where('k.callerId = :callerId AND k.key = :key AND k.createdAt >= :liveSince', { callerId, key, liveSince })
      .getOne();
  }

  /** Removes the keys used before `cutoff`; answers how many. */
  async pruneOlderThan(cutoff: Date): Promise<number> {
    const result = await this.manager
      .createQueryBuilder()
      .delete()
      .from(IdempotencyKeyEntity)
      .where('created_at < :cutoff', { cutoff })
      .execute();
    return result.affected ?? 0;
  }
}
