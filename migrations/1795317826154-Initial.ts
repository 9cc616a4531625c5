import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795317826154 implements MigrationInterface {
  name = 'Initial1795317826154';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"organizations\" (\"id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"snapshot_limit\" integer, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"UQ_9b7ca6d30b94fef571cff876884\" UNIQUE (\"name\"), CONSTRAINT \"PK_6b031fcd0863e3f6b44230163f9\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE TABLE \"users\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"email\" character varying(254) NOT NULL, \"role\" character varying(32) NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\" UNIQUE (\"email\"), CONSTRAINT \"PK_a3ffb1c0c8416b9fc6f907b7433\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_users_organization\" ON \"users\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"api_tokens\" (\"id\" uuid NOT NULL, \"user_id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"token_hash\" character(64) NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"UQ_bbd687a104e1921e6702c6e3aad\" UNIQUE (\"token_hash\"), CONSTRAINT \"PK_c587455266b5fa8dace7194caac\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_api_tokens_user\" ON \"api_tokens\"  (\"user_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"environments\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_ec32d12469ec3c2f2f20c4f5e71\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_environments_organization_name\" ON \"environments\"  (\"organization_id\", \"name\") ");
    await queryRunner.query("CREATE INDEX \"idx_environments_organization\" ON \"environments\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"events\" (\"id\" uuid NOT NULL, \"organization_id\" uuid, \"actor_user_id\" uuid, \"type\" character varying(64) NOT NULL, \"resource_type\" character varying(32) NOT NULL, \"resource_id\" uuid NOT NULL, \"message\" text NOT NULL, \"details\" jsonb, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_40731c7151fe4be3116e45ddf73\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_events_resource\" ON \"events\"  (\"resource_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_events_organization\" ON \"events\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"hosts\" (\"id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"state\" character varying(16) NOT NULL, \"driver\" character varying(32) NOT NULL, \"agent_version\" character varying(32), \"last_heartbeat_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"UQ_d6d891591add4f442af21db7fb5\" UNIQUE (\"name\"), CONSTRAINT \"PK_c4bcf0826e0e2847faee4da1746\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE TABLE \"instances\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"environment_id\" uuid NOT NULL, \"host_id\" uuid, \"name\" character varying(63) NOT NULL, \"state\" character varying(16) NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_11862209053330b4765f7f54178\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_instances_environment_name\" ON \"instances\"  (\"environment_id\", \"name\") ");
    await queryRunner.query("CREATE INDEX \"idx_instances_environment\" ON \"instances\"  (\"environment_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_instances_organization\" ON \"instances\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"jobs\" (\"id\" uuid NOT NULL, \"organization_id\" uuid, \"type\" character varying(64) NOT NULL, \"status\" character varying(16) NOT NULL, \"host_id\" uuid, \"resource_type\" character varying(32) NOT NULL, \"resource_id\" uuid NOT NULL, \"payload\" jsonb NOT NULL, \"result\" jsonb, \"error\" text, \"attempt\" integer NOT NULL DEFAULT '0', \"lease_expires_at\" TIMESTAMP WITH TIME ZONE, \"created_by_user_id\" uuid, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"started_at\" TIMESTAMP WITH TIME ZONE, \"finished_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_cf0a6c42b72fcc7f7c237def345\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_jobs_open_lease\" ON \"jobs\"  (\"lease_expires_at\") WHERE status IN ('PENDING', 'RUNNING')");
    await queryRunner.query("CREATE INDEX \"idx_jobs_organization\" ON \"jobs\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"volumes\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"environment_id\" uuid NOT NULL, \"instance_id\" uuid, \"host_id\" uuid NOT NULL, \"name\" character varying(63) NOT NULL, \"type\" character varying(16) NOT NULL, \"state\" character varying(16) NOT NULL, \"size_gib\" integer NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_f3d03a6ad79006b028d3eae9e9f\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_volumes_host\" ON \"volumes\"  (\"host_id\") ");
    await queryRunner.query("CREATE INDEX \"idx_volumes_instance\" ON \"volumes\"  (\"instance_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_volumes_environment\" ON \"volumes\"  (\"environment_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_volumes_organization\" ON \"volumes\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"snapshots\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"environment_id\" uuid NOT NULL, \"volume_id\" uuid NOT NULL, \"instance_id\" uuid, \"name\" character varying(160) NOT NULL, \"description\" character varying(1024), \"state\" character varying(16) NOT NULL, \"error\" text, \"last_job_id\" uuid, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"completed_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_f5661b5fd4224d23e26a631986b\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_volume\" ON \"snapshots\"  (\"volume_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_instance\" ON \"snapshots\"  (\"instance_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_environment\" ON \"snapshots\"  (\"environment_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_snapshots_organization\" ON \"snapshots\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("ALTER TABLE \"users\" ADD CONSTRAINT \"FK_21a659804ed7bf61eb91688dea7\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"api_tokens\" ADD CONSTRAINT \"FK_b74883f5884a42fd8496d389b25\" FOREIGN KEY (\"user_id\") REFERENCES \"users\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"environments\" ADD CONSTRAINT \"FK_a340a4d674fbeb9305f5899e46e\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"instances\" ADD CONSTRAINT \"FK_8018e58b44886eb058686fb70ce\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"instances\" ADD CONSTRAINT \"FK_cf132daba781b47aaed2815ebb6\" FOREIGN KEY (\"environment_id\") REFERENCES \"environments\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"instances\" ADD CONSTRAINT \"FK_955ab4d1d154c7de52c852e47e8\" FOREIGN KEY (\"host_id\") REFERENCES \"hosts\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD CONSTRAINT \"FK_1eeb46c962ecd1240d45645df39\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD CONSTRAINT \"FK_7a499735326eb3b9541dc168bbd\" FOREIGN KEY (\"environment_id\") REFERENCES \"environments\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD CONSTRAINT \"FK_b3e5eb56a943ce030626ae07975\" FOREIGN KEY (\"instance_id\") REFERENCES \"instances\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"volumes\" ADD CONSTRAINT \"FK_e1ddf38a52f10b23382a74d540e\" FOREIGN KEY (\"host_id\") REFERENCES \"hosts\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD CONSTRAINT \"FK_3b03291ada4d6a2d2d187b5f3bc\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD CONSTRAINT \"FK_5a8982f041d9d20ada942fa9dcc\" FOREIGN KEY (\"environment_id\") REFERENCES \"environments\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD CONSTRAINT \"FK_cdf3320d070bcc6b59a25898a4b\" FOREIGN KEY (\"volume_id\") REFERENCES \"volumes\"(\"id\") ON DELETE RESTRICT ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"snapshots\" ADD CONSTRAINT \"FK_1e1f64b60d8c8f235a850841010\" FOREIGN KEY (\"instance_id\") REFERENCES \"instances\"(\"id\") ON DELETE SET NULL ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP CONSTRAINT \"FK_1e1f64b60d8c8f235a850841010\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP CONSTRAINT \"FK_cdf3320d070bcc6b59a25898a4b\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP CONSTRAINT \"FK_5a8982f041d9d20ada942fa9dcc\"");
    await queryRunner.query("ALTER TABLE \"snapshots\" DROP CONSTRAINT \"FK_3b03291ada4d6a2d2d187b5f3bc\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP CONSTRAINT \"FK_e1ddf38a52f10b23382a74d540e\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP CONSTRAINT \"FK_b3e5eb56a943ce030626ae07975\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP CONSTRAINT \"FK_7a499735326eb3b9541dc168bbd\"");
    await queryRunner.query("ALTER TABLE \"volumes\" DROP CONSTRAINT \"FK_1eeb46c962ecd1240d45645df39\"");
    await queryRunner.query("ALTER TABLE \"instances\" DROP CONSTRAINT \"FK_955ab4d1d154c7de52c852e47e8\"");
    await queryRunner.query("ALTER TABLE \"instances\" DROP CONSTRAINT \"FK_cf132daba781b47aaed2815ebb6\"");
    await queryRunner.query("ALTER TABLE \"instances\" DROP CONSTRAINT \"FK_8018e58b44886eb058686fb70ce\"");
    await queryRunner.query("ALTER TABLE \"environments\" DROP CONSTRAINT \"FK_a340a4d674fbeb9305f5899e46e\"");
    await queryRunner.query("ALTER TABLE \"api_tokens\" DROP CONSTRAINT \"FK_b74883f5884a42fd8496d389b25\"");
    await queryRunner.query("ALTER TABLE \"users\" DROP CONSTRAINT \"FK_21a659804ed7bf61eb91688dea7\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_environment\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_instance\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_snapshots_volume\"");
    await queryRunner.query("DROP TABLE \"snapshots\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_environment\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_instance\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_volumes_host\"");
    await queryRunner.query("DROP TABLE \"volumes\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_jobs_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_jobs_open_lease\"");
    await queryRunner.query("DROP TABLE \"jobs\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_instances_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_instances_environment\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_instances_environment_name\"");
    await queryRunner.query("DROP TABLE \"instances\"");
    await queryRunner.query("DROP TABLE \"hosts\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_resource\"");
    await queryRunner.query("DROP TABLE \"events\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_environments_organization\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_environments_organization_name\"");
    await queryRunner.query("DROP TABLE \"environments\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_api_tokens_user\"");
    await queryRunner.query("DROP TABLE \"api_tokens\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_users_organization\"");
    await queryRunner.query("DROP TABLE \"users\"");
    await queryRunner.query("DROP TABLE \"organizations\"");
  }
}
