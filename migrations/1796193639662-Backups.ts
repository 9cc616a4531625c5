import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Backups1796193639662 implements MigrationInterface {
  name = 'Backups1796193639662';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"backup_storages\" (\"id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"root\" character varying(16) NOT NULL, \"path\" character varying(1024) NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"UQ_a14954510d0e317a41b238de6f0\" UNIQUE (\"name\"), CONSTRAINT \"PK_83a023f649cdeaa3677d54d6c75\" PRIMARY KEY (\"id\"))");
    // The storage every node has: $SECONDARY_STORAGE_DIR/backups (the contract's default).
    await queryRunner.query("INSERT INTO \"backup_storages\" (\"id\", \"name\", \"root\", \"path\") VALUES (gen_random_uuid(), 'default', 'secondary', 'backups')");
    await queryRunner.query("CREATE TABLE \"backups\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"environment_id\" uuid NOT NULL, \"instance_id\" uuid, \"instance_name\" character varying(63) NOT NULL, \"host_id\" uuid, \"storage_id\" uuid NOT NULL, \"name\" character varying(160) NOT NULL, \"mode\" character varying(16) NOT NULL, \"compression\" character varying(16) NOT NULL, \"incremental\" boolean NOT NULL DEFAULT false, \"chain_length\" integer NOT NULL DEFAULT 1, \"full_reason\" character varying(200), \"parent_id\" uuid, \"state\" character varying(16) NOT NULL, \"size_bytes\" bigint, \"configuration\" jsonb NOT NULL, \"notify\" text array NOT NULL DEFAULT '{}', \"error\" text, \"job_id\" uuid, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"completed_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_ca30ff369eddfc7dac3b35d0d3c\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_backups_parent\" ON \"backups\"  (\"parent_id\") ");
    await queryRunner.query("CREATE INDEX \"idx_backups_storage\" ON \"backups\"  (\"storage_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_backups_environment\" ON \"backups\"  (\"environment_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_backups_instance\" ON \"backups\"  (\"instance_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_backups_organization\" ON \"backups\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD \"pending_restore_backup_id\" uuid");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_pending_restore\" ON \"snapshots\"  (\"pending_restore_backup_id\") WHERE pending_restore_backup_id IS NOT NULL");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_7460cfde9f0b8c9d30b69d27cca\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_24d330f636314ce07e6489d641a\" FOREIGN KEY (\"environment_id\") REFERENCES \"environments\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_0dd805a2b1ec102eade35e5ffc8\" FOREIGN KEY (\"instance_id\") REFERENCES \"instances\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_2dc9c9548948c21ee8c4ad3c07c\" FOREIGN KEY (\"host_id\") REFERENCES \"hosts\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_5f0b642b0ec4916e445ae7e980f\" FOREIGN KEY (\"storage_id\") REFERENCES \"backup_storages\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_c9803516d6d2da8fb6a16696cd4\" FOREIGN KEY (\"parent_id\") REFERENCES \"backups\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_c9803516d6d2da8fb6a16696cd4\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_5f0b642b0ec4916e445ae7e980f\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_2dc9c9548948c21ee8c4ad3c07c\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_0dd805a2b1ec102eade35e5ffc8\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_24d330f636314ce07e6489d641a\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_7460cfde9f0b8c9d30b69d27cca\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_pending_restore\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP COLUMN \"pending_restore_backup_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_instance\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_environment\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_storage\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_parent\"");
    await queryRunner.query("DROP TABLE \"backups\"");
    await queryRunner.query("DROP TABLE \"backup_storages\"");
  }
}
