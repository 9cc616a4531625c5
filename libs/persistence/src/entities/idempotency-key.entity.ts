import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** What a mutation's work returned, by entity type and id: a replay reads those rows again. */
export interface IdempotentResult {
  entities: Array<{ type: string; id: string }>;
}

/**
 * An `Idempotency-Key` a caller sent with a mutation whose transaction committed: written in that transaction,
 * so the key and the work commit together. Kept 24 h (older rows are ignored, then pruned).
 */
@Entity('idempotency_keys')
@Index('idx_idempotency_keys_created_at', ['createdAt'])
export class IdempotencyKeyEntity {
  /** The user the request authenticated as: keys of different callers never collide. */
  @PrimaryColumn({ name: 'caller_id', type: 'uuid' })
  callerId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key!: string;

  /** The mutation field it was sent with. */
  @Column({ type: 'varchar', length: 100 })
  field!: string;

  /** SHA-256 of the mutation's name and arguments: the same key with other arguments is refused. */
  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'jsonb' })
  result!: IdempotentResult;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
