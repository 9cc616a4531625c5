import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StorageAudits1796157150954 implements MigrationInterface {
  name = 'StorageAudits1796157150954';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"storage_audits\" (\"id\" uuid NOT NULL, \"host_id\" uuid NOT NULL, \"job_id\" uuid, \"repair_job_id\" uuid, \"repaired\" boolean NOT NULL DEFAULT false, \"orphan_grace_minutes\" integer NOT NULL, \"orphan_tags\" integer NOT NULL DEFAULT '0', \"missing_snapshots\" integer NOT NULL DEFAULT '0', \"missing_volumes\" integer NOT NULL DEFAULT '0', \"orphan_files\" integer NOT NULL DEFAULT '0', \"damaged_images\" integer NOT NULL DEFAULT '0', \"findings\" jsonb, \"repair_report\" jsonb, \"started_at\" TIMESTAMP WITH TIME ZONE, \"finished_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_eef7b8b0432a89c48796cd5088c\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_storage_audits_host_open\" ON \"storage_audits\"  (\"host_id\") WHERE finished_at IS NULL");
    await queryRunner.query("CREATE INDEX \"idx_storage_audits_host\" ON \"storage_audits\"  (\"host_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_jobs_finished\" ON \"jobs\"  (\"finished_at\") WHERE finished_at IS NOT NULL");
    await queryRunner.query("ALTER TABLE \"storage_audits\" ADD CONSTRAINT \"FK_13ba970e18c0735973d42ff317c\" FOREIGN KEY (\"host_id\") REFERENCES \"hosts\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"storage_audits\" DROP CONSTRAINT \"FK_13ba970e18c0735973d42ff317c\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_jobs_finished\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_storage_audits_host\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_storage_audits_host_open\"");
    await queryRunner.query("DROP TABLE \"storage_audits\"");
  }
}
