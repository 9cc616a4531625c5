import type { MigrationInterface, QueryRunner } from 'typeorm';

export class VolumeContentsReplaced1796226076926 implements MigrationInterface {
  name = 'VolumeContentsReplaced1796226076926';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"volumes\" ADD \"contents_replaced_at\" TIMESTAMP WITH TIME ZONE");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"volumes\" DROP COLUMN \"contents_replaced_at\"");
  }
}
