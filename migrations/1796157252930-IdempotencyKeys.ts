// A table of its own: Idempotency-Keys of committed mutations (apps/api/src/idempotency), pruned after 24 h.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IdempotencyKeys1796157252930 implements MigrationInterface {
  name = 'IdempotencyKeys1796157252930';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"idempotency_keys\" (\"caller_id\" uuid NOT NULL, \"key\" character varying(255) NOT NULL, \"field\" character varying(100) NOT NULL, \"fingerprint\" character(64) NOT NULL, \"result\" jsonb NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_bdf4460bde873b9f9d38fbd2da0\" PRIMARY KEY (\"caller_id\", \"key\"))");
    await queryRunner.query("CREATE INDEX \"idx_idempotency_keys_created_at\" ON \"idempotency_keys\"  (\"created_at\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_idempotency_keys_created_at\"");
    await queryRunner.query("DROP TABLE \"idempotency_keys\"");
  }
}
