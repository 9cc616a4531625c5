import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1796180891766 implements MigrationInterface {
  name = 'Notifications1796180891766';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"notification_emails\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"event_id\" uuid NOT NULL, \"event_type\" character varying(64) NOT NULL, \"recipients\" text array NOT NULL, \"payload\" jsonb NOT NULL, \"status\" character varying(16) NOT NULL, \"attempts\" integer NOT NULL DEFAULT '0', \"last_error\" text, \"next_attempt_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"finished_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"UQ_1df97d89114f382ffefe8df2a98\" UNIQUE (\"event_id\"), CONSTRAINT \"PK_04a102f5dca41e6254c988be0f6\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_notification_emails_organization\" ON \"notification_emails\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_notification_emails_due\" ON \"notification_emails\"  (\"next_attempt_at\") WHERE \"status\" = 'PENDING'");
    await queryRunner.query("CREATE TABLE \"webhooks\" (\"id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"url\" character varying(2048) NOT NULL, \"events\" text array NOT NULL DEFAULT '{}', \"signing_secret\" character varying(128) NOT NULL, \"enabled\" boolean NOT NULL DEFAULT true, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_9e8795cfc899ab7bdaa831e8527\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_webhooks_organization\" ON \"webhooks\"  (\"organization_id\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"webhook_deliveries\" (\"id\" uuid NOT NULL, \"webhook_id\" uuid NOT NULL, \"organization_id\" uuid NOT NULL, \"event_id\" uuid NOT NULL, \"event_type\" character varying(64) NOT NULL, \"payload\" jsonb NOT NULL, \"status\" character varying(16) NOT NULL, \"attempts\" integer NOT NULL DEFAULT '0', \"response_status\" integer, \"last_error\" text, \"next_attempt_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"finished_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_535dd409947fb6d8fc6dfc0112a\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_webhook_deliveries_due\" ON \"webhook_deliveries\"  (\"next_attempt_at\") WHERE \"status\" = 'PENDING'");
    await queryRunner.query("CREATE INDEX \"idx_webhook_deliveries_webhook\" ON \"webhook_deliveries\"  (\"webhook_id\", \"id\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_webhook_deliveries_webhook_event\" ON \"webhook_deliveries\"  (\"webhook_id\", \"event_id\") ");
    await queryRunner.query("ALTER TABLE \"organizations\" ADD \"notification_emails\" text array NOT NULL DEFAULT '{}'");
    await queryRunner.query("ALTER TABLE \"organizations\" ADD \"notification_events\" text array NOT NULL DEFAULT '{}'");
    await queryRunner.query("ALTER TABLE \"webhooks\" ADD CONSTRAINT \"FK_1263da9f2a66fe09006bd86130e\" FOREIGN KEY (\"organization_id\") REFERENCES \"organizations\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
    await queryRunner.query("ALTER TABLE \"webhook_deliveries\" ADD CONSTRAINT \"FK_a0286aeb96db651efd1ae2966f2\" FOREIGN KEY (\"webhook_id\") REFERENCES \"webhooks\"(\"id\") ON DELETE CASCADE ON UPDATE NO ACTION");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"webhook_deliveries\" DROP CONSTRAINT \"FK_a0286aeb96db651efd1ae2966f2\"");
    await queryRunner.query("ALTER TABLE \"webhooks\" DROP CONSTRAINT \"FK_1263da9f2a66fe09006bd86130e\"");
    await queryRunner.query("ALTER TABLE \"organizations\" DROP COLUMN \"notification_events\"");
    await queryRunner.query("ALTER TABLE \"organizations\" DROP COLUMN \"notification_emails\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_webhook_deliveries_webhook_event\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhook_deliveries_webhook\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhook_deliveries_due\"");
    await queryRunner.query("DROP TABLE \"webhook_deliveries\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhooks_organization\"");
    await queryRunner.query("DROP TABLE \"webhooks\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_notification_emails_due\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_notification_emails_organization\"");
    await queryRunner.query("DROP TABLE \"notification_emails\"");
  }
}
