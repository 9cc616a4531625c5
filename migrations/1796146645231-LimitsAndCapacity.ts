import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organization limits (the old snapshot_limit becomes limit_snapshots, values kept) and the storage a host's
 * heartbeat reports, for placement by capacity.
 */
export class LimitsAndCapacity1796146645231 implements MigrationInterface {
  name = 'LimitsAndCapacity1796146645231';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "organizations" RENAME COLUMN "snapshot_limit" TO "limit_snapshots"');
    await queryRunner.query('ALTER TABLE "organizations" ADD "limit_snapshot_gib" integer');
    await queryRunner.query('ALTER TABLE "organizations" ADD "limit_instances" integer');
    await queryRunner.query('ALTER TABLE "organizations" ADD "limit_volume_gib" integer');
    await queryRunner.query('ALTER TABLE "organizations" ADD "limit_backups" integer');
    await queryRunner.query('ALTER TABLE "organizations" ADD "limit_backup_gib" integer');
    await queryRunner.query('ALTER TABLE "hosts" ADD "storage_total_bytes" bigint');
    await queryRunner.query('ALTER TABLE "hosts" ADD "storage_free_bytes" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "hosts" DROP COLUMN "storage_free_bytes"');
    await queryRunner.query('ALTER TABLE "hosts" DROP COLUMN "storage_total_bytes"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "limit_backup_gib"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "limit_backups"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "limit_volume_gib"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "limit_instances"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "limit_snapshot_gib"');
    await queryRunner.query('ALTER TABLE "organizations" RENAME COLUMN "limit_snapshots" TO "snapshot_limit"');
  }
}
