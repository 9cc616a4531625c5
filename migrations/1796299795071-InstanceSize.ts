import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InstanceSize1796299795071 implements MigrationInterface {
  name = 'InstanceSize1796299795071';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"instances\" ADD \"cpu_count\" integer NOT NULL DEFAULT '1'");
    await queryRunner.query("ALTER TABLE \"instances\" ADD \"memory_mib\" integer NOT NULL DEFAULT '512'");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"instances\" DROP COLUMN \"memory_mib\"");
    await queryRunner.query("ALTER TABLE \"instances\" DROP COLUMN \"cpu_count\"");
  }
}
