import type { MigrationInterface, QueryRunner } from 'typeorm';

export class BackupSchedules1796194754889 implements MigrationInterface {
  name = 'BackupSchedules1796194754889';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"backup_schedules\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"schedule\" character varying(128) NOT NULL, \"timezone\" character varying(64) NOT NULL, \"mode\" character varying(16) NOT NULL, \"compression\" character varying(16) NOT NULL, \"incremental\" boolean NOT NULL DEFAULT true, \"storage_id\" uuid NOT NULL, \"notify\" text array NOT NULL DEFAULT '{}', \"retention\" jsonb NOT NULL DEFAULT '{}', \"enabled\" boolean NOT NULL DEFAULT true, \"next_run_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"retry_of\" TIMESTAMP WITH TIME ZONE, \"last_run_at\" TIMESTAMP WITH TIME ZONE, \"last_status\" character varying(16), \"last_error\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_14429218ef83c8eae127050e2fa\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_backup_schedules_due\" ON \"backup_schedules\"  (\"next_run_at\") WHERE enabled");
    await queryRunner.query("CREATE INDEX \"idx_backup_schedules_organization\" ON \"backup_schedules\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"backup_schedule_instances\" (\"schedule_id\" uuid NOT NULL, \"instance_id\" uuid NOT NULL, CONSTRAINT \"PK_1069c86114a9ef775d92b86c641\" PRIMARY KEY (\"schedule_id\", \"instance_id\"))");
    await queryRunner.query("CREATE INDEX \"idx_backup_schedule_instances_instance\" ON \"backup_schedule_instances\"  (\"instance_id\") ");
    await queryRunner.query("CREATE TABLE \"backup_schedule_runs\" (\"id\" uuid NOT NULL, \"schedule_id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"scheduled_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"status\" character varying(16) NOT NULL, \"results\" jsonb NOT NULL DEFAULT '[]', \"attempts\" integer NOT NULL DEFAULT '1', \"error\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_0932546c175980048fc535bc6de\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_backup_schedule_runs_occurrence\" ON \"backup_schedule_runs\"  (\"schedule_id\", \"scheduled_at\") ");
    await queryRunner.query("ALTER TABLE \"backups\" ADD \"schedule_id\" uuid");
    await queryRunner.query("CREATE INDEX \"idx_backups_schedule\" ON \"backups\"  (\"schedule_id\", \"instance_id\") ");
    await queryRunner.query("ALTER TABLE \"backup_schedules\" ADD CONSTRAINT \"FK_d804b97561853222384c2c5eb58\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backup_schedules\" ADD CONSTRAINT \"FK_ccf7fe20b1fdcf89d7ecd6cc401\" FOREIGN KEY (\"storage_id\") REFERENCES \"backup_storages\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backup_schedule_instances\" ADD CONSTRAINT \"FK_3aeb3002b5f2d0be258c041d784\" FOREIGN KEY (\"schedule_id\") REFERENCES \"backup_schedules\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backup_schedule_instances\" ADD CONSTRAINT \"FK_4d192fb70afa5ffb2c29dbc5c26\" FOREIGN KEY (\"instance_id\") REFERENCES \"instances\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backup_schedule_runs\" ADD CONSTRAINT \"FK_7f5db3c46444b9213a67176f35b\" FOREIGN KEY (\"schedule_id\") REFERENCES \"backup_schedules\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"backups\" ADD CONSTRAINT \"FK_6d25f6be0e5cfc315e47163ec74\" FOREIGN KEY (\"schedule_id\") REFERENCES \"backup_schedules\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"backups\" DROP CONSTRAINT \"FK_6d25f6be0e5cfc315e47163ec74\"");
    await queryRunner.query("ALTER TABLE \"backup_schedule_runs\" DROP CONSTRAINT \"FK_7f5db3c46444b9213a67176f35b\"");
    await queryRunner.query("ALTER TABLE \"backup_schedule_instances\" DROP CONSTRAINT \"FK_4d192fb70afa5ffb2c29dbc5c26\"");
    await queryRunner.query("ALTER TABLE \"backup_schedule_instances\" DROP CONSTRAINT \"FK_3aeb3002b5f2d0be258c041d784\"");
    await queryRunner.query("ALTER TABLE \"backup_schedules\" DROP CONSTRAINT \"FK_ccf7fe20b1fdcf89d7ecd6cc401\"");
    await queryRunner.query("ALTER TABLE \"backup_schedules\" DROP CONSTRAINT \"FK_d804b97561853222384c2c5eb58\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backups_schedule\"");
    await queryRunner.query("ALTER TABLE \"backups\" DROP COLUMN \"schedule_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_backup_schedule_runs_occurrence\"");
    await queryRunner.query("DROP TABLE \"backup_schedule_runs\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backup_schedule_instances_instance\"");
    await queryRunner.query("DROP TABLE \"backup_schedule_instances\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backup_schedules_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_backup_schedules_due\"");
    await queryRunner.query("DROP TABLE \"backup_schedules\"");
  }
}
