import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RecoveryPoints1795327739303 implements MigrationInterface {
  name = 'RecoveryPoints1795327739303';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"instance_snapshots\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"environment_id\" uuid NOT NULL, \"instance_id\" uuid NOT NULL, \"name\" character varying(160) NOT NULL, \"description\" character varying(1024), \"state\" character varying(16) NOT NULL, \"volume_ids\" uuid array NOT NULL, \"with_memory\" boolean NOT NULL DEFAULT false, \"quiesced\" boolean NOT NULL DEFAULT false, \"error\" text, \"last_job_id\" uuid, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"completed_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_7e1e6c61b87071342b0a8c5f09a\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_instance_snapshots_instance\" ON \"instance_snapshots\"  (\"instance_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_instance_snapshots_organization\" ON \"instance_snapshots\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD \"quiesced\" boolean NOT NULL DEFAULT false");
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" ADD CONSTRAINT \"FK_a4e9411e5cb311890ab0115d34a\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" ADD CONSTRAINT \"FK_561c58be103f5eec4fb311e86d1\" FOREIGN KEY (\"environment_id\") REFERENCES \"environments\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" ADD CONSTRAINT \"FK_0146f5b34f8824b61966e5b1ee1\" FOREIGN KEY (\"instance_id\") REFERENCES \"instances\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" DROP CONSTRAINT \"FK_0146f5b34f8824b61966e5b1ee1\"");
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" DROP CONSTRAINT \"FK_561c58be103f5eec4fb311e86d1\"");
    await queryRunner.query("ALTER TABLE \"instance_snapshots\" DROP CONSTRAINT \"FK_a4e9411e5cb311890ab0115d34a\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP COLUMN \"quiesced\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_instance_snapshots_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_instance_snapshots_instance\"");
    await queryRunner.query("DROP TABLE \"instance_snapshots\"");
  }
}
