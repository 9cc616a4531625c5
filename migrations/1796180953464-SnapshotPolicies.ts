import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SnapshotPolicies1796180953464 implements MigrationInterface {
  name = 'SnapshotPolicies1796180953464';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"snapshot_policies\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"volume_id\" uuid NOT NULL, \"schedule\" character varying(128) NOT NULL, \"timezone\" character varying(64) NOT NULL, \"keep\" integer NOT NULL, \"enabled\" boolean NOT NULL DEFAULT true, \"notify\" jsonb NOT NULL DEFAULT '[]', \"next_run_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"retry_of\" TIMESTAMP WITH TIME ZONE, \"last_run_at\" TIMESTAMP WITH TIME ZONE, \"last_status\" character varying(16), \"last_error\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_c606ff49f01ba578726f713e0b7\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_snapshot_policies_due\" ON \"snapshot_policies\"  (\"next_run_at\") WHERE enabled");
    await queryRunner.query("CREATE INDEX \"idx_snapshot_policies_volume\" ON \"snapshot_policies\"  (\"volume_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_snapshot_policies_organization\" ON \"snapshot_policies\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"policy_runs\" (\"id\" uuid NOT NULL, \"policy_id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"scheduled_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"state\" character varying(16) NOT NULL, \"snapshot_id\" uuid, \"attempts\" integer NOT NULL DEFAULT '1', \"error\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"finished_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_7489d452e1c2055cf9e27925f29\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_policy_runs_snapshot\" ON \"policy_runs\"  (\"snapshot_id\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_policy_runs_occurrence\" ON \"policy_runs\"  (\"policy_id\", \"scheduled_at\") ");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD \"policy_id\" uuid");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD \"protected\" boolean NOT NULL DEFAULT false");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_policy\" ON \"snapshots\"  (\"policy_id\", \"id\") ");
    await queryRunner.query("ALTER TABLE \"snapshot_policies\" ADD CONSTRAINT \"FK_fa2cac79dade4d64628c6f536ef\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshot_policies\" ADD CONSTRAINT \"FK_093f77447d03f21cf723ac1e0bf\" FOREIGN KEY (\"volume_id\") REFERENCES \"volumes\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"policy_runs\" ADD CONSTRAINT \"FK_46285b3eb59859d665c05f6f28f\" FOREIGN KEY (\"policy_id\") REFERENCES \"snapshot_policies\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD CONSTRAINT \"FK_e9b6984a4cdd70b79c74a77f364\" FOREIGN KEY (\"policy_id\") REFERENCES \"snapshot_policies\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP CONSTRAINT \"FK_e9b6984a4cdd70b79c74a77f364\"");
    await queryRunner.query("ALTER TABLE \"policy_runs\" DROP CONSTRAINT \"FK_46285b3eb59859d665c05f6f28f\"");
    await queryRunner.query("ALTER TABLE \"snapshot_policies\" DROP CONSTRAINT \"FK_093f77447d03f21cf723ac1e0bf\"");
    await queryRunner.query("ALTER TABLE \"snapshot_policies\" DROP CONSTRAINT \"FK_fa2cac79dade4d64628c6f536ef\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_policy\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP COLUMN \"protected\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP COLUMN \"policy_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_policy_runs_occurrence\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_policy_runs_snapshot\"");
    await queryRunner.query("DROP TABLE \"policy_runs\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshot_policies_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshot_policies_volume\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshot_policies_due\"");
    await queryRunner.query("DROP TABLE \"snapshot_policies\"");
  }
}
