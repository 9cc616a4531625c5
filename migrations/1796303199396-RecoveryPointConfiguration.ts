import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RecoveryPointConfiguration1796303199396 implements MigrationInterface {
  name = 'RecoveryPointConfiguration1796303199396';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" ADD \"configuration\" jsonb NOT NULL DEFAULT '{}'");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" DROP COLUMN \"configuration\"");
  }
}
