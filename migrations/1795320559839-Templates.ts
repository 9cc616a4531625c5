import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Templates1795320559839 implements MigrationInterface {
  name = 'Templates1795320559839';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"templates\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"description\" character varying(1024), \"state\" character varying(16) NOT NULL, \"public\" boolean NOT NULL DEFAULT false, \"source_snapshot_id\" uuid, \"virtual_size_bytes\" bigint, \"error\" text, \"last_job_id\" uuid, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_515948649ce0bbbe391de702ae5\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_templates_public\" ON \"templates\"  (\"id\") WHERE public");
    await queryRunner.query("CREATE INDEX \"idx_templates_organization\" ON \"templates\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD \"source_snapshot_id\" uuid");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD \"source_template_id\" uuid");
    await queryRunner.query("CREATE INDEX \"idx_volumes_source_template\" ON \"volumes\"  (\"source_template_id\") WHERE source_template_id IS NOT NULL");
    await queryRunner.query("CREATE INDEX \"idx_volumes_source_snapshot\" ON \"volumes\"  (\"source_snapshot_id\") WHERE source_snapshot_id IS NOT NULL");
    await queryRunner.query("ALTER TABLE \"templates\" ADD CONSTRAINT \"FK_e1a4d8ae904ce011b0a81a089a1\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"templates\" DROP CONSTRAINT \"FK_e1a4d8ae904ce011b0a81a089a1\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_source_snapshot\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_source_template\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP COLUMN \"source_template_id\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP COLUMN \"source_snapshot_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_templates_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_templates_public\"");
    await queryRunner.query("DROP TABLE \"templates\"");
  }
}
