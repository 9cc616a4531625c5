// Down restores the global unique index on users.email: it fails while two organizations share an address.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TokensAndUsers1796146648866 implements MigrationInterface {
  name = 'TokensAndUsers1796146648866';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"users\" ADD \"disabled\" boolean NOT NULL DEFAULT false");
    await queryRunner.query("ALTER TABLE \"api_tokens\" ADD \"expires_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"api_tokens\" ADD \"last_used_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"api_tokens\" ADD \"revoked_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"users\" DROP CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_users_organization_email\" ON \"users\"  (\"organization_id\", \"email\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"uq_users_organization_email\"");
    await queryRunner.query("ALTER TABLE \"users\" ADD CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\" UNIQUE (\"email\")");
    await queryRunner.query("ALTER TABLE \"api_tokens\" DROP COLUMN \"revoked_at\"");
    await queryRunner.query("ALTER TABLE \"api_tokens\" DROP COLUMN \"last_used_at\"");
    await queryRunner.query("ALTER TABLE \"api_tokens\" DROP COLUMN \"expires_at\"");
    await queryRunner.query("ALTER TABLE \"users\" DROP COLUMN \"disabled\"");
  }
}
